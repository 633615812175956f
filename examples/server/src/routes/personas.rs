//! `POST /v1/personas`: extract a persona without starting a conversation.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::admission::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::state::AppState;
use link_wire::PersonaRequest;

/// Extracts a persona from a free-text request.
#[utoipa::path(post, path = "/v1/personas", tag = "personas",
    request_body = PersonaRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The persona", body = link_wire::PersonaSchema),
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
    let persona = state.link.extract_persona(&ctx, &body.request).await?;
    Ok(Json(persona).into_response())
}
