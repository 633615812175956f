//! [`GovernorRateLimiter`]: per-user GCRA rate limiting keyed by the principal's `sub`, with
//! weighed requests and an optional daily token quota.

mod tokens;

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{NotUntil, Quota};
use link_core::{Principal, RateDecision, RateLimiter};

use crate::AuthError;

/// How many requests a user may make, and how often idle users are forgotten.
///
/// ```
/// use link_auth::RateLimitConfig;
/// use std::time::Duration;
/// let config = RateLimitConfig { requests: 100, period: Duration::from_secs(3600), burst: 10,
///     ..RateLimitConfig::default() };
/// assert_eq!(RateLimitConfig::default().requests, 25);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Requests replenished per `period` (default 25).
    pub requests: u32,
    /// The period (default one minute).
    pub period: Duration,
    /// Requests that may be made at once after a quiet spell (default 25).
    pub burst: u32,
    /// How often users whose allowance is full again are dropped from memory (default 60 s).
    pub eviction_interval: Duration,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            requests: 25,
            period: Duration::from_secs(60),
            burst: 25,
            eviction_interval: Duration::from_secs(60),
        }
    }
}

type Keyed<C> =
    governor::RateLimiter<String, DashMapStateStore<String>, C, StateInformationMiddleware>;

/// A GCRA rate limiter (the `governor` crate) with one bucket per principal `sub`.
///
/// Allowed decisions report the remaining burst; denied ones a retry-after rounded up to
/// whole seconds. A weighed request ([`RateLimiter::check_n`]) takes its cost from the burst
/// all at once or not at all. Users whose allowance has fully replenished are evicted every
/// `eviction_interval`, so memory stays bounded by the number of recently active users.
/// Generic over the clock so tests can use `governor::clock::FakeRelativeClock`.
///
/// With [`with_daily_tokens`](Self::with_daily_tokens), each principal may also spend that
/// many model tokens per UTC day, counted in this process from the usage the models report:
/// with several replicas, each keeps its own count.
///
/// ```
/// use link_auth::{GovernorRateLimiter, RateLimitConfig};
/// use link_core::{Principal, RateDecision, RateLimiter};
/// let limiter = GovernorRateLimiter::new(RateLimitConfig::default()).unwrap();
/// let decision = limiter.check(&Principal::new("alice"));
/// assert_eq!(decision, RateDecision::Allowed { limit: 25, remaining: 24 });
/// ```
pub struct GovernorRateLimiter<C: Clock = DefaultClock> {
    limiter: Keyed<C>,
    limit: u32,
    origin: C::Instant,
    eviction_every: u64,
    /// Nanoseconds after `origin` at which the next eviction is due.
    next_eviction: AtomicU64,
    tokens: Option<tokens::DailyTokens>,
    wall_clock: WallClock,
}

/// Where the daily quota reads the UTC time.
type WallClock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

impl GovernorRateLimiter<DefaultClock> {
    /// A limiter on the default (monotonic) clock.
    pub fn new(config: RateLimitConfig) -> Result<Self, AuthError> {
        Self::with_clock(config, DefaultClock::default())
    }
}

impl<C: Clock> GovernorRateLimiter<C> {
    /// A limiter on `clock` (e.g. a `FakeRelativeClock` in tests).
    pub fn with_clock(config: RateLimitConfig, clock: C) -> Result<Self, AuthError> {
        let invalid = |message: &str| AuthError::Config {
            message: format!("rate limit: {message}"),
        };
        let requests = NonZeroU32::new(config.requests).ok_or_else(|| invalid("requests is 0"))?;
        let burst = NonZeroU32::new(config.burst).ok_or_else(|| invalid("burst is 0"))?;
        let quota = Quota::with_period(config.period / requests.get())
            .ok_or_else(|| invalid("the period is too short"))?
            .allow_burst(burst);
        let origin = clock.now();
        let eviction_every = u64::try_from(config.eviction_interval.as_nanos()).unwrap_or(u64::MAX);
        Ok(Self {
            limiter: governor::RateLimiter::dashmap_with_clock(quota, clock)
                .with_middleware::<StateInformationMiddleware>(),
            limit: burst.get(),
            origin,
            eviction_every,
            next_eviction: AtomicU64::new(eviction_every),
            tokens: None,
            wall_clock: Arc::new(SystemTime::now),
        })
    }

    /// Adds a daily quota of `quota` model tokens per principal, renewed at midnight UTC
    /// (`None`: no quota). A model call is refused once the tokens the principal's calls
    /// used since midnight reach it; the call that crosses it is not cut short.
    ///
    /// ```
    /// use link_auth::{GovernorRateLimiter, RateLimitConfig};
    /// use link_core::{Principal, RateDecision, RateLimiter};
    /// let limiter = GovernorRateLimiter::new(RateLimitConfig::default())
    ///     .unwrap()
    ///     .with_daily_tokens(Some(1000));
    /// let alice = Principal::new("alice");
    /// limiter.spend_tokens(&alice, 1000);
    /// assert!(matches!(limiter.admit(&alice, 2, true), RateDecision::Exhausted { .. }));
    /// assert!(matches!(limiter.admit(&alice, 1, false), RateDecision::Allowed { .. }));
    /// ```
    pub fn with_daily_tokens(mut self, quota: Option<u64>) -> Self {
        self.tokens = quota.map(tokens::DailyTokens::new);
        self
    }

    /// Reads the daily quota's UTC days from `now` instead of the system clock (for tests).
    pub fn with_wall_clock(mut self, now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.wall_clock = Arc::new(now);
        self
    }

    /// Counts one request for `key` and decides.
    pub fn check_key(&self, key: &String) -> RateDecision {
        self.check_key_n(key, 1)
    }

    /// Counts a request costing `cost` for `key`, all or nothing, and decides. A cost of 0
    /// counts as 1; one above the burst takes the whole burst.
    pub fn check_key_n(&self, key: &String, cost: u32) -> RateDecision {
        let now = self.limiter.clock().now();
        self.maybe_evict(now);
        let cost = NonZeroU32::new(cost.min(self.limit)).unwrap_or(NonZeroU32::MIN);
        match self.limiter.check_key_n(key, cost) {
            Ok(Ok(snapshot)) => RateDecision::Allowed {
                limit: self.limit,
                remaining: snapshot.remaining_burst_capacity(),
            },
            Ok(Err(not_until)) => RateDecision::Denied {
                limit: self.limit,
                retry_after: retry_after(&not_until, now),
            },
            // The cost is at most the burst, which is the capacity.
            Err(_) => RateDecision::Denied {
                limit: self.limit,
                retry_after: Duration::from_secs(1),
            },
        }
    }

    /// Drops users whose allowance is full again (their state equals a fresh one).
    pub fn evict_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// How many users the limiter currently remembers.
    pub fn tracked_keys(&self) -> usize {
        self.limiter.len()
    }

    /// Evicts when the interval has passed; the compare-exchange lets exactly one caller do it.
    fn maybe_evict(&self, now: C::Instant) {
        let elapsed = u64::from(now.duration_since(self.origin));
        let due = self.next_eviction.load(Ordering::Relaxed);
        if elapsed >= due
            && self
                .next_eviction
                .compare_exchange(
                    due,
                    elapsed.saturating_add(self.eviction_every),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            self.evict_idle();
        }
    }
}

/// The wait, rounded up to whole seconds (and at least one, since we did deny).
fn retry_after<P: Reference>(not_until: &NotUntil<P>, now: P) -> Duration {
    let wait = not_until.wait_time_from(now);
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

impl<C: Clock> RateLimiter for GovernorRateLimiter<C>
where
    C: Send + Sync + fmt::Debug + 'static,
    C::Instant: Send + Sync,
{
    fn check(&self, principal: &Principal) -> RateDecision {
        self.check_key(&principal.sub)
    }

    fn check_n(&self, principal: &Principal, cost: u32) -> RateDecision {
        self.check_key_n(&principal.sub, cost)
    }

    fn tokens_exhausted(&self, principal: &Principal) -> Option<Duration> {
        let tokens = self.tokens.as_ref()?;
        tokens.exhausted(&principal.sub, (self.wall_clock)())
    }

    fn spend_tokens(&self, principal: &Principal, tokens: u64) {
        if let Some(quota) = &self.tokens {
            quota.spend(&principal.sub, tokens, (self.wall_clock)());
        }
    }
}

impl<C: Clock> fmt::Debug for GovernorRateLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GovernorRateLimiter")
            .field("limit", &self.limit)
            .field("daily_tokens", &self.tokens.as_ref().map(|t| t.quota()))
            .field("tracked_keys", &self.limiter.len())
            .finish_non_exhaustive()
    }
}
