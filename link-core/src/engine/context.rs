//! Per-request context: who is asking, under which request id, and whether the transport has
//! already counted the request against the caller's quota.

use crate::{Principal, RateDecision, RequestId};

/// Who is asking and under which request id. Built by the transport (HTTP server, CLI) after
/// authentication and passed to every [`Link`](crate::Link) action.
///
/// A transport that must answer with the limiter's decision (an HTTP server's `RateLimit-*`
/// headers) checks the limiter itself before the call and hands the decision in with
/// [`admitted`](Self::admitted); the engine then enforces that decision (and audits a denial
/// as the action it refused) instead of counting the request a second time. Without it, the
/// engine counts the request itself.
///
/// ```
/// use link_core::{Principal, RateDecision, RequestContext, RequestId};
/// let ctx = RequestContext::new(Principal::new("alice"))
///     .with_request_id(RequestId::from_caller(Some("req-1")));
/// assert_eq!(ctx.request_id.as_str(), "req-1");
/// assert!(ctx.admission().is_none());
/// let ctx = ctx.admitted(RateDecision::Allowed { limit: 25, remaining: 24 });
/// assert!(ctx.admission().is_some());
/// ```
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The authenticated caller.
    pub principal: Principal,
    /// The request's id, for audit and tracing.
    pub request_id: RequestId,
    admission: Option<RateDecision>,
}

impl RequestContext {
    /// A context for `principal` with a fresh request id.
    pub fn new(principal: Principal) -> Self {
        Self {
            principal,
            request_id: RequestId::generate(),
            admission: None,
        }
    }

    /// Replaces the request id (e.g. with the caller's `x-request-id`).
    pub fn with_request_id(mut self, request_id: RequestId) -> Self {
        self.request_id = request_id;
        self
    }

    /// Hands in the limiter's decision for this request, already counted by the transport.
    pub fn admitted(mut self, decision: RateDecision) -> Self {
        self.admission = Some(decision);
        self
    }

    /// The decision handed in with [`admitted`](Self::admitted), if any.
    pub fn admission(&self) -> Option<RateDecision> {
        self.admission
    }
}
