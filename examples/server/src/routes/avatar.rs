//! A conversation's avatar: the character's picture, a PNG image kept from an imported card or
//! uploaded by the owner, served to the page and written into exported PNG cards.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::cards::BinaryFile;
use super::conversation_id;
use crate::admission::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// The conversation's avatar as a PNG image; 404 when it has none.
#[utoipa::path(get, path = "/v1/conversations/{id}/avatar", tag = "conversations",
    operation_id = "get_avatar",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The avatar", content((BinaryFile = "image/png"))),
        (status = 400, description = "A malformed id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours, or it has no avatar",
         body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let avatar = state.link.avatar(&ctx, id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "the conversation has no avatar",
        )
    })?;
    let headers = [
        (header::CONTENT_TYPE, "image/png"),
        // The owner's picture: a browser may keep it, but must ask again before reuse.
        (header::CACHE_CONTROL, "private, no-cache"),
    ];
    Ok((headers, avatar.into_bytes()).into_response())
}

/// Sets the conversation's avatar from a PNG image (re-encoded without its text chunks, so a
/// card's data or other metadata is not kept; at most 3 MiB after that). The body may be as
/// large as a card import (`LINK_MAX_CARD_BYTES`).
#[utoipa::path(put, path = "/v1/conversations/{id}/avatar", tag = "conversations",
    operation_id = "put_avatar",
    params(("id" = String, Path, format = "uuid", description = "Conversation id")),
    request_body(description = "A PNG image", content((BinaryFile = "image/png"))),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Set"),
        (status = 400, description = "A malformed id, not a PNG image, or over 3 MiB",
         body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
        (status = 413, description = "Larger than LINK_MAX_CARD_BYTES", body = ErrorBody),
    ))]
pub async fn put(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let image = body?;
    state.link.set_avatar(&ctx, id, Some(&image)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Removes the conversation's avatar (exported PNG cards then show a plain square).
#[utoipa::path(delete, path = "/v1/conversations/{id}/avatar", tag = "conversations",
    operation_id = "delete_avatar",
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
    state.link.set_avatar(&ctx, id, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
