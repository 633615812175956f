//! The HTTP routes, one file per resource. Protected handlers take a [`Caller`] (set by
//! `admission::users`) and make one engine call; `RateLimit-*` headers are added by the
//! admission layer, not here.
//!
//! [`Caller`]: crate::admission::Caller

pub mod account;
pub mod avatar;
pub mod cards;
pub mod chat;
pub mod controls;
pub mod conversations;
pub mod dev_token;
pub mod health;
pub mod keys;
pub mod lorebook;
pub mod me;
pub mod openai_compat;
pub mod personas;

use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use link::{ConversationId, MessageId, Reply, TurnStream};
use link_wire::ReplyBody;

use crate::error::ApiError;

/// A conversation id from a path segment; a malformed one is a 400.
pub fn conversation_id(raw: &str) -> Result<ConversationId, ApiError> {
    raw.parse().map_err(ApiError::from)
}

/// A message id from a path segment or a body; a malformed one is a 400.
pub fn message_id(raw: &str) -> Result<MessageId, ApiError> {
    raw.parse().map_err(ApiError::from)
}

/// The response of an action that generates a reply: the SSE stream if the client asked for
/// one (`stream` runs), else the whole reply as JSON (`whole` runs). Only one of them runs,
/// so only one action is audited.
pub async fn reply_or_stream(
    headers: &HeaderMap,
    stream: impl AsyncFnOnce() -> link::Result<TurnStream>,
    whole: impl AsyncFnOnce() -> link::Result<Reply>,
) -> Result<Response, ApiError> {
    if wants_sse(headers) {
        let turn = stream().await?;
        return Ok(crate::sse::response(turn).into_response());
    }
    let reply = whole().await?;
    Ok(Json(ReplyBody::from(reply)).into_response())
}

/// Whether the client asked for Server-Sent Events.
pub fn wants_sse(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"))
}
