//! `POST /v1/auth/token`: a dev token for any name (dev auth mode only), never cached, rate
//! limited per client IP (by `admission::dev_tokens`).

use axum::extract::State;
use axum::http::StatusCode;
use link_wire::{TokenRequest, TokenResponse};

use crate::error::ApiError;
use crate::json::ApiJson;
use crate::routes::account::Tokens;
use crate::state::AppState;

/// Mints a dev token for a name (dev mode only).
#[utoipa::path(
    post, path = "/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "A dev token", body = TokenResponse),
        (status = 400, description = "Bad username", body = crate::error::ErrorBody),
        (status = 404, description = "Not in dev mode", body = crate::error::ErrorBody),
        (status = 429, description = "Too many dev token requests from this IP", body = crate::error::ErrorBody),
    )
)]
pub async fn mint_dev_token(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Tokens<TokenResponse>, ApiError> {
    let Some(dev) = &state.dev else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "dev tokens are only issued in dev auth mode",
        ));
    };
    let username = body.username.trim();
    if username.is_empty()
        || username.chars().count() > 64
        || username.chars().any(char::is_control)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "username must be 1 to 64 printable characters",
        ));
    }
    let token = dev
        .authenticator
        .mint_for_username(username)
        .map_err(link::Error::from)?;
    Ok(Tokens(TokenResponse {
        token,
        expires_in: dev.lifetime.as_secs(),
    }))
}
