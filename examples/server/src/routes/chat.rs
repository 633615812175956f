//! `POST /v1/chat`: the reference system's single endpoint, routed by the engine.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::conversation_id;
use crate::admission::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::state::AppState;
use link_wire::{ChatBody, ChatReplyBody};

/// Without a conversation (or when asked for another character) the prompt names a
/// character and a new conversation starts; otherwise the character replies.
#[utoipa::path(post, path = "/v1/chat", tag = "chat",
    request_body = ChatBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The character's words", body = ChatReplyBody),
        (status = 400, description = "Bad request", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
        (status = 422, description = "The extracted persona is invalid or was refused, or a guardrail blocked the message", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 502, description = "Upstream failure", body = ErrorBody),
    ))]
pub async fn chat(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<ChatBody>,
) -> Result<Response, ApiError> {
    let conversation = body
        .conversation_id
        .as_deref()
        .map(conversation_id)
        .transpose()?;
    let outcome = state.link.chat(&ctx, &body.prompt, conversation).await?;
    let body = ChatReplyBody {
        completion: outcome.completion,
        conversation_id: outcome.conversation_id.to_string(),
        persona: outcome.persona,
    };
    Ok(Json(body).into_response())
}
