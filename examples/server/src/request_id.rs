//! Request ids: the server generates one for every request, returns it as `x-request-id`, and
//! carries it into the trace span and (through the request context) the audit line. A
//! client's own `x-request-id` is no proof of anything and must not let it pick, or collide
//! with, the id the logs trust: it is kept apart as `client_request_id` (in the span and the
//! audit line) and echoed as `x-client-request-id`, only when it is 1 to 128 printable ASCII
//! characters without spaces; otherwise it is dropped.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use link::{RequestContext, RequestId};
use tracing::Instrument;

use crate::metrics::Observer;

/// The header of the server's request id on responses, and of the client's own on requests.
pub const HEADER: &str = "x-request-id";

/// The response header echoing the client's own request id, when it was kept.
pub const CLIENT_HEADER: &str = "x-client-request-id";

/// The client's own id for a request, checked; in the request's extensions when it sent one
/// fit to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequestId(pub String);

impl ClientRequestId {
    /// The `x-request-id` a client sent, if it is fit to keep.
    fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get(HEADER)?.to_str().ok()?;
        RequestContext::is_fit_client_request_id(value).then(|| Self(value.to_owned()))
    }
}

/// Middleware: generates the request id, keeps the client's (if fit) beside it in the
/// request's extensions, and runs the rest of the stack inside a span that names both, and
/// observed by `observer` when metrics or traces are on.
pub async fn middleware(
    State(observer): State<Option<Arc<Observer>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = RequestId::generate();
    let client = ClientRequestId::from_headers(request.headers());
    request.extensions_mut().insert(id.clone());
    if let Some(client) = &client {
        request.extensions_mut().insert(client.clone());
    }
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        client_request_id = client.as_ref().map(|c| c.0.as_str()),
        method = %request.method(),
        path = %request.uri().path(),
    );
    let mut response = match observer {
        Some(observer) => observer.run(request, next).instrument(span).await,
        None => next.run(request).instrument(span).await,
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        headers.insert(HEADER, value);
    }
    if let Some(value) = client.and_then(|c| HeaderValue::from_str(&c.0).ok()) {
        headers.insert(CLIENT_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(value: &[u8]) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_bytes(value).unwrap());
        ClientRequestId::from_headers(&headers).map(|c| c.0)
    }

    #[test]
    fn only_a_short_printable_client_id_is_kept() {
        assert_eq!(kept(b"abc-123").as_deref(), Some("abc-123"));
        assert_eq!(kept(&[b'x'; 128]).map(|k| k.len()), Some(128));
        assert_eq!(kept(&[b'x'; 129]), None);
        assert_eq!(kept(b"with space"), None);
        assert_eq!(kept(b""), None);
        assert_eq!(kept("caf\u{e9}".as_bytes()), None);
        assert_eq!(ClientRequestId::from_headers(&HeaderMap::new()), None);
    }
}
