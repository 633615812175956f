//! `x-request-id`: accepted from the caller when sane, generated otherwise, returned on the
//! response, and carried into the trace span and (through the request context) the audit.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use link::RequestId;
use tracing::Instrument;

/// The header name.
pub const HEADER: &str = "x-request-id";

/// Middleware: resolves the request id, stores it in the request's extensions, and runs the
/// rest of the stack inside a span that names it.
pub async fn middleware(mut request: Request, next: Next) -> Response {
    let given = request.headers().get(HEADER).and_then(|v| v.to_str().ok());
    let id = RequestId::from_caller(given);
    request.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
