//! [`InstrumentedLimiter`]: a [`RateLimiter`] whose decisions are counted.

use std::time::Duration;

use link_core::{Principal, RateDecision, RateLimiter};
use prometheus_client::metrics::counter::Counter;

use crate::Metrics;
use crate::labels::LimitLabels;

/// Wraps a [`RateLimiter`]: each decision is counted in `link_rate_limit_decisions_total`
/// by scope and decision (`allowed`, `denied`, and `exhausted` when the daily token quota is
/// used up). The principal is never a label. Weighed requests and the token quota are
/// forwarded to the inner limiter.
///
/// ```
/// use link_core::{Principal, RateLimiter, Unlimited};
/// use link_telemetry::{InstrumentedLimiter, Metrics, PriceTable};
///
/// let metrics = Metrics::new(PriceTable::default());
/// let limiter = InstrumentedLimiter::new(Unlimited, "user", &metrics);
/// limiter.check(&Principal::new("alice"));
/// assert!(metrics.render().contains(
///     r#"link_rate_limit_decisions_total{scope="user",decision="allowed"} 1"#
/// ));
/// ```
#[derive(Debug)]
pub struct InstrumentedLimiter<L> {
    inner: L,
    allowed: Counter,
    denied: Counter,
    exhausted: Counter,
}

impl<L: RateLimiter> InstrumentedLimiter<L> {
    /// Wraps `inner`, whose decisions are counted under `scope` (`user` for the per-user
    /// limit, `ip` for the per-address one: a fixed name, it is a label).
    pub fn new(inner: L, scope: &'static str, metrics: &Metrics) -> Self {
        let counter =
            |decision| (metrics.rate_limit).get_or_create_owned(&LimitLabels { scope, decision });
        Self {
            allowed: counter("allowed"),
            denied: counter("denied"),
            exhausted: counter("exhausted"),
            inner,
        }
    }
}

impl<L: RateLimiter> InstrumentedLimiter<L> {
    fn count(&self, decision: RateDecision) -> RateDecision {
        match decision {
            RateDecision::Allowed { .. } => self.allowed.inc(),
            RateDecision::Denied { .. } => self.denied.inc(),
            RateDecision::Exhausted { .. } => self.exhausted.inc(),
        };
        decision
    }
}

impl<L: RateLimiter> RateLimiter for InstrumentedLimiter<L> {
    fn check(&self, principal: &Principal) -> RateDecision {
        self.count(self.inner.check(principal))
    }

    fn check_n(&self, principal: &Principal, cost: u32) -> RateDecision {
        self.count(self.inner.check_n(principal, cost))
    }

    fn tokens_exhausted(&self, principal: &Principal) -> Option<Duration> {
        self.inner.tokens_exhausted(principal)
    }

    fn spend_tokens(&self, principal: &Principal, tokens: u64) {
        self.inner.spend_tokens(principal, tokens);
    }

    fn admit(&self, principal: &Principal, cost: u32, model_call: bool) -> RateDecision {
        self.count(self.inner.admit(principal, cost, model_call))
    }
}
