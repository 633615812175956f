//! Conversations: create, list, read, delete, and send messages (whole or streamed).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use link::PersonaSource;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{conversation_id, wants_sse};
use crate::admission::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::sse;
use crate::state::AppState;
use link_wire::{
    ConversationBody, ConversationList, ConversationSummary, CreateConversation, MessageBody,
    ReplyBody, SendMessage, UsageBody,
};

/// Starts a conversation; the character's greeting is its first message.
#[utoipa::path(post, path = "/v1/conversations", tag = "conversations",
    request_body = CreateConversation,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ConversationBody),
        (status = 400, description = "Neither or both of persona_request and persona", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "Invalid persona", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 502, description = "Upstream failure", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<CreateConversation>,
) -> Result<Response, ApiError> {
    let source = match (body.persona_request, body.persona) {
        (Some(request), None) => PersonaSource::Request(request),
        (None, Some(persona)) => PersonaSource::Persona(Box::new(persona)),
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "give exactly one of persona_request and persona",
            ));
        }
    };
    let detail = state.link.create_conversation(&ctx, source).await?;
    let body = ConversationBody::from(detail);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The caller's conversations, most recently updated first.
#[utoipa::path(get, path = "/v1/conversations", tag = "conversations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The list", body = ConversationList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> Result<Response, ApiError> {
    let conversations = state.link.list_conversations(&ctx).await?;
    let body = ConversationList {
        conversations: conversations
            .into_iter()
            .map(ConversationSummary::from)
            .collect(),
    };
    Ok(Json(body).into_response())
}

/// How much of a conversation to return.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetQuery {
    /// Only the newest `last` messages (at least 1), oldest first; all of them without it.
    #[param(minimum = 1)]
    last: Option<usize>,
}

/// One conversation with its messages (all, or the newest `last`).
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, format = "uuid", description = "Conversation id"), GetQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The conversation", body = ConversationBody),
        (status = 400, description = "A malformed id, or a bad `last`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    query: Result<Query<GetQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let invalid =
        |message: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message);
    let Query(query) = query.map_err(|rejection| invalid(rejection.body_text()))?;
    let detail = match query.last {
        None => state.link.get_conversation(&ctx, id).await,
        Some(0) => return Err(invalid("`last` must be at least 1".into())),
        Some(last) => state.link.get_conversation_last(&ctx, id, last).await,
    }?;
    Ok(Json(ConversationBody::from(detail)).into_response())
}

/// Deletes a conversation and its messages.
#[utoipa::path(delete, path = "/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A malformed id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    state.link.delete_conversation(&ctx, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Sends a message. With `Accept: text/event-stream` the reply streams as SSE events
/// `delta` (`{"text"}`), then `done` (`{"stop_reason", "usage", "message_id"}`) or `error`
/// (`{"code", "message"}`).
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    request_body = SendMessage,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reply as JSON, or as an SSE stream",
            content((ReplyBody = "application/json"), (String = "text/event-stream"))),
        (status = 400, description = "A malformed id, or an empty or oversize message", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
        (status = 422, description = "Blocked by a guardrail", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 502, description = "Upstream failure", body = ErrorBody),
        (status = 503, description = "Upstream unavailable; see Retry-After", body = ErrorBody),
        (status = 504, description = "Upstream timeout", body = ErrorBody),
    ))]
pub async fn send(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SendMessage>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    if wants_sse(&headers) {
        let turn = state.link.send_stream(&ctx, id, &body.content).await?;
        return Ok(sse::response(turn).into_response());
    }
    let reply = state.link.send(&ctx, id, &body.content).await?;
    let body = ReplyBody {
        message: MessageBody::from(reply.message),
        usage: reply.usage.map(UsageBody::from),
        stop_reason: reply.stop_reason.to_string(),
    };
    Ok(Json(body).into_response())
}
