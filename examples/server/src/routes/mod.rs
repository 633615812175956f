//! The HTTP routes, one file per resource.

pub mod account;
pub mod cards;
pub mod chat;
pub mod conversations;
pub mod health;
pub mod personas;

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use link_core::{ConversationId, RequestContext};

use crate::error::ApiError;
use crate::limits::rate_limit_headers;

/// A response with the request's `RateLimit-*` headers.
pub fn with_rate(ctx: &RequestContext, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    if let Some(decision) = ctx.rate_decision() {
        rate_limit_headers(response.headers_mut(), decision);
    }
    response
}

/// A conversation id from a path segment; a malformed one is a 400.
pub fn conversation_id(raw: &str) -> Result<ConversationId, ApiError> {
    raw.parse().map_err(ApiError::from)
}

/// Whether the client asked for Server-Sent Events.
pub fn wants_sse(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"))
}
