//! `POST /v1/personas`: extract a persona without starting a conversation.

use axum::Json;
use axum::extract::State;
use axum::response::Response;

use super::with_rate;
use crate::auth::Caller;
use crate::dto::PersonaRequest;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::state::AppState;

/// Extracts a persona from a free-text request.
#[utoipa::path(post, path = "/v1/personas", tag = "personas",
    request_body = PersonaRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The persona", body = crate::dto::PersonaSchema),
        (status = 400, description = "Bad request", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "The extracted persona is invalid or was refused", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
        (status = 502, description = "Upstream failure", body = ErrorBody),
    ))]
pub async fn extract(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<PersonaRequest>,
) -> Result<Response, ApiError> {
    let persona = state
        .link
        .extract_persona(&ctx, &body.request)
        .await
        .map_err(|e| ApiError::from_core(e, &ctx))?;
    Ok(with_rate(&ctx, Json(persona)))
}
