//! `/v1/me/keys`: the caller's long-lived API keys, for chat clients that take one fixed
//! bearer token (the OpenAI-compatible routes, [`super::openai_compat`]). A key is shown once,
//! when it is made; only its hash is kept. Keys are made and revoked with a sign-in token,
//! never with a key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use link_wire::{ApiKeyBody, ApiKeyList, CreateApiKey, CreatedApiKey, ErrorBody};

use crate::admission::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::state::AppState;

/// Makes an API key for the caller. The answer holds the key itself, which is never shown
/// again. At most 20 keys per user.
#[utoipa::path(post, path = "/v1/me/keys", tag = "me", operation_id = "create_api_key",
    request_body = CreateApiKey,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The key, shown this once", body = CreatedApiKey),
        (status = 400, description = "A blank or too long name, or too many keys", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Signed in with an API key", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<Response, ApiError> {
    let issued = state.link.create_api_key(&ctx, &body.name).await?;
    Ok((StatusCode::CREATED, Json(CreatedApiKey::from(issued))).into_response())
}

/// The caller's API keys, oldest first: names and hints, never the keys.
#[utoipa::path(get, path = "/v1/me/keys", tag = "me", operation_id = "list_api_keys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The keys", body = ApiKeyList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> Result<Response, ApiError> {
    let keys = state.link.list_api_keys(&ctx).await?;
    let keys = keys.into_iter().map(ApiKeyBody::from).collect();
    Ok(Json(ApiKeyList { keys }).into_response())
}

/// Revokes one of the caller's API keys: it stops working at once.
#[utoipa::path(delete, path = "/v1/me/keys/{id}", tag = "me", operation_id = "revoke_api_key",
    params(("id" = String, Path, description = "The key's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Signed in with an API key", body = ErrorBody),
        (status = 404, description = "No such key of yours", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.link.revoke_api_key(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
