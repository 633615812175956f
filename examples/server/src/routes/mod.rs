//! The HTTP routes, one file per resource. Protected handlers take a [`Caller`] (set by
//! `admission::users`) and make one engine call; `RateLimit-*` headers are added by the
//! admission layer, not here.
//!
//! [`Caller`]: crate::admission::Caller

pub mod account;
pub mod cards;
pub mod chat;
pub mod conversations;
pub mod dev_token;
pub mod health;
pub mod personas;

use axum::http::HeaderMap;
use link::ConversationId;

use crate::error::ApiError;

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
