//! Conversations: create, list (in pages), read, change settings, delete, and send messages
//! (whole or streamed). The controls on their messages are in `controls.rs`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use link::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use link::{ConversationPatch, Cursor, PageRequest, PersonaSource};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{conversation_id, reply_or_stream};
use crate::admission::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::state::AppState;
use link_wire::{
    ConversationBody, ConversationList, ConversationSummary, CreateConversation, ReplyBody,
    SendMessage, UpdateConversation,
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

/// Which page of the list to return.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many (1 to 200; default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of the caller's conversations, most recently updated first.
#[utoipa::path(get, path = "/v1/conversations", tag = "conversations",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The list", body = ConversationList),
        (status = 400, description = "A bad `limit` or `cursor`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| invalid(rejection.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&limit) {
        return Err(invalid(format!("`limit` must be 1 to {MAX_PAGE_SIZE}")));
    }
    let page = PageRequest::first(limit).after(query.cursor.map(Cursor::new));
    let page = state.link.list_conversations(&ctx, &page).await?;
    let body = ConversationList {
        conversations: page
            .items
            .into_iter()
            .map(ConversationSummary::from)
            .collect(),
        next_cursor: page.next.map(|c| c.as_str().to_owned()),
    };
    Ok(Json(body).into_response())
}

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
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
    let link = &state.link;
    reply_or_stream(
        &headers,
        async || link.send_stream(&ctx, id, &body.content).await,
        async || link.send(&ctx, id, &body.content).await,
    )
    .await
}

/// Changes a conversation's settings or its memory (the summary the character remembers of
/// earlier turns, the pinned facts always in the prompt); a field left out is left as it is.
#[utoipa::path(patch, path = "/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    request_body = UpdateConversation,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The conversation as changed", body = ConversationSummary),
        (status = 400, description = "An invalid user persona, a memory over 4,000 characters, or pinned facts over their bounds", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
        (status = 409, description = "The memory changed meanwhile", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateConversation>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let patch = ConversationPatch::from(body);
    let conversation = state.link.update_conversation(&ctx, id, patch).await?;
    Ok(Json(ConversationSummary::from(conversation)).into_response())
}
