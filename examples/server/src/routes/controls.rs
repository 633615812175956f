//! The chat controls on a conversation's messages: regenerate the last reply, edit or choose
//! a version of a message, edit and resend a user message, rewind, fork.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use link::Rewind;
use link_wire::{
    ConversationBody, EditMessage, ErrorBody, ForkBody, MessageBody, ReplyBody, RewindBody,
    RewindReply, SendMessage,
};

use super::{conversation_id, message_id, reply_or_stream};
use crate::admission::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::state::AppState;

/// A new version of the last reply (the earlier ones stay as `alternatives`), or the reply to
/// a user message that has none (an interrupted turn). With `Accept: text/event-stream` it
/// streams like a send; a dropped stream changes nothing.
#[utoipa::path(post, path = "/v1/conversations/{id}/regenerate", tag = "controls",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new version, as JSON or as an SSE stream",
            content((ReplyBody = "application/json"), (String = "text/event-stream"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
        (status = 409, description = "The conversation changed meanwhile", body = ErrorBody),
        (status = 422, description = "Blocked by a guardrail", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 502, description = "Upstream failure", body = ErrorBody),
        (status = 503, description = "Upstream unavailable; see Retry-After", body = ErrorBody),
        (status = 504, description = "Upstream timeout", body = ErrorBody),
    ))]
pub async fn regenerate(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let link = &state.link;
    reply_or_stream(
        &headers,
        async || link.regenerate_stream(&ctx, id).await,
        async || link.regenerate(&ctx, id).await,
    )
    .await
}

/// Replaces the text of one of the user's messages and has the character answer it again:
/// the messages after it are removed and the new reply appended, all at once when the reply
/// is complete (a dropped stream changes nothing).
#[utoipa::path(post, path = "/v1/conversations/{id}/messages/{message_id}/resend",
    tag = "controls",
    params(
        ("id" = String, Path, format = "uuid", description = "Conversation id"),
        ("message_id" = String, Path, format = "uuid", description = "The user's message to replace"),
    ),
    request_body = SendMessage,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reply, as JSON or as an SSE stream",
            content((ReplyBody = "application/json"), (String = "text/event-stream"))),
        (status = 400, description = "Empty or oversize text, or not a user message", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation or message of yours", body = ErrorBody),
        (status = 409, description = "The conversation changed meanwhile", body = ErrorBody),
        (status = 422, description = "Blocked by a guardrail", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 502, description = "Upstream failure", body = ErrorBody),
        (status = 503, description = "Upstream unavailable; see Retry-After", body = ErrorBody),
        (status = 504, description = "Upstream timeout", body = ErrorBody),
    ))]
pub async fn resend(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, message)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SendMessage>,
) -> Result<Response, ApiError> {
    let (id, message) = (conversation_id(&id)?, message_id(&message)?);
    let link = &state.link;
    let text = body.content.as_str();
    reply_or_stream(
        &headers,
        async || link.resend_stream(&ctx, id, message, text).await,
        async || link.resend(&ctx, id, message, text).await,
    )
    .await
}

/// Edits a message of either side (`content`), or chooses which of its versions later
/// prompts see (`chosen`); exactly one of the two. Nothing is generated.
#[utoipa::path(patch, path = "/v1/conversations/{id}/messages/{message_id}", tag = "controls",
    params(
        ("id" = String, Path, format = "uuid", description = "Conversation id"),
        ("message_id" = String, Path, format = "uuid", description = "The message"),
    ),
    request_body = EditMessage,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The message as stored", body = MessageBody),
        (status = 400, description = "Neither or both fields, empty or oversize text, no such version", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation or message of yours", body = ErrorBody),
        (status = 409, description = "The message changed meanwhile", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn edit(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, message)): Path<(String, String)>,
    ApiJson(body): ApiJson<EditMessage>,
) -> Result<Response, ApiError> {
    let (id, message) = (conversation_id(&id)?, message_id(&message)?);
    let edited = match (body.content, body.chosen) {
        (Some(text), None) => state.link.edit_message(&ctx, id, message, &text).await?,
        (None, Some(index)) => {
            state
                .link
                .choose_alternative(&ctx, id, message, index)
                .await?
        }
        _ => return Err(bad_request("give exactly one of content and chosen")),
    };
    Ok(Json(MessageBody::from(edited)).into_response())
}

/// Removes the newest turns (`turns`) or everything after a message (`after`); exactly one
/// of the two. The first message (the greeting) always stays.
#[utoipa::path(post, path = "/v1/conversations/{id}/rewind", tag = "controls",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    request_body = RewindBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many messages went", body = RewindReply),
        (status = 400, description = "Neither or both fields", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation or message of yours", body = ErrorBody),
        (status = 409, description = "The conversation changed meanwhile", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn rewind(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RewindBody>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let rewind = match (body.turns, body.after) {
        (Some(turns), None) => Rewind::Turns(turns),
        (None, Some(after)) => Rewind::After(message_id(&after)?),
        _ => return Err(bad_request("give exactly one of turns and after")),
    };
    let removed = state.link.rewind(&ctx, id, rewind).await?;
    Ok(Json(RewindReply { removed }).into_response())
}

/// A new conversation with the same character and user persona, holding copies of the
/// messages up to `through` (all of them when left out); it lists with `forked_from`.
#[utoipa::path(post, path = "/v1/conversations/{id}/fork", tag = "controls",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    request_body = ForkBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The fork", body = ConversationBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation or message of yours", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn fork(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ForkBody>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let through = body.through.as_deref().map(message_id).transpose()?;
    let fork = state.link.fork(&ctx, id, through).await?;
    Ok((StatusCode::CREATED, Json(ConversationBody::from(fork))).into_response())
}

fn bad_request(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}
