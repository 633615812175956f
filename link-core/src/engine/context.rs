//! Per-request context: who is asking, under which request id, and what the limiter said.

use std::sync::OnceLock;

use crate::{Principal, RateDecision, RequestId};

/// Who is asking and under which request id. Built by the transport (HTTP server, CLI) after
/// authentication and passed to every [`Link`](crate::Link) action.
///
/// ```
/// use link_core::{Principal, RequestContext, RequestId};
/// let ctx = RequestContext::new(Principal::new("alice"))
///     .with_request_id(RequestId::from_caller(Some("req-1")));
/// assert_eq!(ctx.request_id.as_str(), "req-1");
/// assert!(ctx.rate_decision().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The authenticated caller.
    pub principal: Principal,
    /// The request's id, for audit and tracing.
    pub request_id: RequestId,
    rate: OnceLock<RateDecision>,
}

impl RequestContext {
    /// A context for `principal` with a fresh request id.
    pub fn new(principal: Principal) -> Self {
        Self {
            principal,
            request_id: RequestId::generate(),
            rate: OnceLock::new(),
        }
    }

    /// Replaces the request id (e.g. with the caller's `x-request-id`).
    pub fn with_request_id(mut self, request_id: RequestId) -> Self {
        self.request_id = request_id;
        self
    }

    /// What the rate limiter decided for this request, once an action has run (for
    /// `RateLimit-*` response headers).
    pub fn rate_decision(&self) -> Option<RateDecision> {
        self.rate.get().copied()
    }

    pub(crate) fn set_rate_decision(&self, decision: RateDecision) {
        // One action per context: the first decision is the one that counted.
        let _ = self.rate.set(decision);
    }
}
