//! Per-request context: who is asking, under which request id (and the caller's own id for it,
//! kept apart), and whether the transport has already counted the request against the
//! caller's quota.

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
/// The request id is the transport's (an HTTP server generates it); an id the caller chose
/// is no proof of anything, so it is kept apart as the
/// [`client_request_id`](Self::client_request_id), only when it is fit to log.
///
/// ```
/// use link_core::{Principal, RateDecision, RequestContext};
/// let ctx = RequestContext::new(Principal::new("alice")).with_client_request_id("req-1");
/// assert_eq!(ctx.client_request_id(), Some("req-1"));
/// assert_ne!(ctx.request_id.as_str(), "req-1");
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
    client_request_id: Option<String>,
    admission: Option<RateDecision>,
}

impl RequestContext {
    /// A context for `principal` with a fresh request id.
    pub fn new(principal: Principal) -> Self {
        Self {
            principal,
            request_id: RequestId::generate(),
            client_request_id: None,
            admission: None,
        }
    }

    /// Replaces the request id (with the one the transport generated for its logs).
    pub fn with_request_id(mut self, request_id: RequestId) -> Self {
        self.request_id = request_id;
        self
    }

    /// Keeps the caller's own id for this request (an HTTP client's `x-request-id`), for the
    /// audit event, if it [is fit](Self::is_fit_client_request_id); an unfit one is dropped.
    ///
    /// ```
    /// use link_core::{Principal, RequestContext};
    /// let alice = || RequestContext::new(Principal::new("alice"));
    /// assert_eq!(alice().with_client_request_id("trace:4f/2").client_request_id(), Some("trace:4f/2"));
    /// assert_eq!(alice().with_client_request_id("two words").client_request_id(), None);
    /// ```
    pub fn with_client_request_id(mut self, id: &str) -> Self {
        self.client_request_id = Self::is_fit_client_request_id(id).then(|| id.to_owned());
        self
    }

    /// The caller's own id for this request, if it gave a fit one.
    pub fn client_request_id(&self) -> Option<&str> {
        self.client_request_id.as_deref()
    }

    /// Whether a caller's id is fit to keep in logs and audit events: 1 to
    /// [`RequestId::MAX_LEN`] bytes of printable ASCII, no spaces.
    pub fn is_fit_client_request_id(id: &str) -> bool {
        !id.is_empty() && id.len() <= RequestId::MAX_LEN && id.bytes().all(|b| b.is_ascii_graphic())
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
