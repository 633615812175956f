//! A conversation's lorebook: entries the character draws on when the conversation mentions
//! their keys, read, replaced and removed by the owner.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use link::Lorebook;
use link_wire::LorebookReply;

use super::conversation_id;
use crate::admission::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::state::AppState;

/// The conversation's lorebook, or null.
#[utoipa::path(get, path = "/v1/conversations/{id}/lorebook", tag = "conversations",
    operation_id = "get_lorebook",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The lorebook, or null", body = LorebookReply),
        (status = 400, description = "A malformed id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let lorebook = state.link.lorebook(&ctx, id).await?;
    Ok(Json(LorebookReply { lorebook }).into_response())
}

/// Replaces the conversation's lorebook, in the shape of a card's `character_book`: entries
/// with `keys`, `content`, `secondary_keys` and `selective`, `case_sensitive`, `constant`,
/// `enabled` and `insertion_order`, and the book's `scan_depth` and `token_budget`. Fields
/// Link does not use are kept for export. At most 512 entries of 4,000 characters, 256 KiB
/// in all; checked by the moderator like a card.
#[utoipa::path(put, path = "/v1/conversations/{id}/lorebook", tag = "conversations",
    operation_id = "put_lorebook",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    request_body = link_wire::LorebookSchema,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The lorebook as stored", body = LorebookReply),
        (status = 400, description = "A malformed id or body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
        (status = 422, description = "The lorebook breaks its bounds or was refused",
         body = ErrorBody),
    ))]
pub async fn put(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    ApiJson(book): ApiJson<Lorebook>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let lorebook = state.link.set_lorebook(&ctx, id, Some(book)).await?;
    Ok(Json(LorebookReply { lorebook }).into_response())
}

/// Removes the conversation's lorebook.
#[utoipa::path(delete, path = "/v1/conversations/{id}/lorebook", tag = "conversations",
    operation_id = "delete_lorebook",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed (or there was none)"),
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
    state.link.set_lorebook(&ctx, id, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
