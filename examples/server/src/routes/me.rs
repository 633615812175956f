//! `/v1/me/persona`: who the caller is to the characters, by default (a conversation can
//! override it with `PATCH /v1/conversations/{id}`); and, in [`usage`], `/v1/me/usage`.

pub mod usage;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use link::UserPersona;
use link_wire::{ErrorBody, UserPersonaBody, UserPersonaReply};

use crate::admission::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::state::AppState;

/// The caller's default user persona, or null.
#[utoipa::path(get, path = "/v1/me/persona", tag = "me", operation_id = "get_user_persona",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user persona, or null", body = UserPersonaReply),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn get(State(state): State<AppState>, Caller(ctx): Caller) -> Result<Response, ApiError> {
    let persona = state.link.user_persona(&ctx).await?;
    Ok(reply(persona))
}

/// Sets the caller's default user persona: the name characters call them by (one line, at
/// most 64 characters) and what they know about them (at most 1,000 characters). `{{user}}`
/// in greetings and example lines stands for the name.
#[utoipa::path(put, path = "/v1/me/persona", tag = "me", operation_id = "put_user_persona",
    request_body = UserPersonaBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user persona as stored (trimmed)", body = UserPersonaReply),
        (status = 400, description = "An empty or multi-line name, or a field too long", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn put(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<UserPersonaBody>,
) -> Result<Response, ApiError> {
    let persona = state
        .link
        .set_user_persona(&ctx, Some(UserPersona::from(body)))
        .await?;
    Ok(reply(persona))
}

/// Clears the caller's default user persona.
#[utoipa::path(delete, path = "/v1/me/persona", tag = "me", operation_id = "delete_user_persona",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Cleared"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> Result<Response, ApiError> {
    state.link.set_user_persona(&ctx, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn reply(persona: Option<UserPersona>) -> Response {
    let body = UserPersonaReply {
        user_persona: persona.map(UserPersonaBody::from),
    };
    Json(body).into_response()
}
