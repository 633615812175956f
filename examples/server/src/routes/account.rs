//! Account routes: the auth mode, and (Cognito mode) sign-up, confirmation, sign-in, refresh
//! and sign-out, each rate limited per client IP (by `admission::accounts`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use link::{Principal, RateDecision};

use crate::accounts::Accounts;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::state::AppState;
use link_wire::{
    AuthModeBody, ConfirmBody, LoginBody, LoginReply, RefreshBody, RefreshReply, SignOutBody,
    SignUpBody, SignUpReply,
};

/// A JSON answer that carries a token: `Cache-Control: no-store`, so that no cache or
/// proxy keeps a copy (RFC 6749 §5.1).
#[derive(Debug)]
pub struct Tokens<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Tokens<T> {
    fn into_response(self) -> Response {
        let no_store = [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];
        (no_store, Json(self.0)).into_response()
    }
}

/// How the page signs people in.
#[utoipa::path(get, path = "/v1/auth/mode", tag = "auth",
    responses((status = 200, description = "The auth mode", body = AuthModeBody)))]
pub async fn mode(State(state): State<AppState>) -> Json<AuthModeBody> {
    let mode = if state.accounts.is_some() {
        "cognito"
    } else {
        "dev"
    };
    Json(AuthModeBody { mode: mode.into() })
}

/// The accounts service; a 404 outside Cognito mode. (The per-IP limit ran before the
/// handler, in `admission::accounts`.)
/// Counts a sign-in or confirmation against the username's own bucket (the per-IP quota,
/// keyed `user:<name>`), so guessing one account's password or code from many addresses is
/// limited too.
fn per_username(state: &AppState, username: &str) -> Result<(), ApiError> {
    let Some(limiter) = &state.per_ip else {
        return Ok(());
    };
    let key = Principal::new(format!("user:{}", username.to_lowercase()));
    match limiter.check(&key) {
        RateDecision::Denied { retry_after, .. } | RateDecision::Exhausted { retry_after } => {
            tracing::info!("account request refused: per-username rate limit");
            Err(ApiError::from(link::Error::RateLimited { retry_after }))
        }
        RateDecision::Allowed { .. } => Ok(()),
    }
}

fn accounts(state: &AppState) -> Result<Arc<Accounts>, ApiError> {
    let Some(accounts) = state.accounts.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "accounts exist only in Cognito auth mode",
        ));
    };
    Ok(accounts)
}

/// A field must be present, printable and not too long.
fn check(value: &str, name: &str, max_chars: usize) -> Result<(), ApiError> {
    let count = value.chars().count();
    if count == 0 || count > max_chars || value.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("{name} must be 1 to {max_chars} printable characters"),
        ));
    }
    Ok(())
}

/// Creates an account; Cognito emails a confirmation code.
#[utoipa::path(post, path = "/v1/auth/signup", tag = "auth",
    request_body = SignUpBody,
    responses(
        (status = 200, description = "Signed up", body = SignUpReply),
        (status = 400, description = "Bad input, or the password breaks the policy", body = ErrorBody),
        (status = 404, description = "Not in Cognito mode", body = ErrorBody),
        (status = 409, description = "The username is taken", body = ErrorBody),
        (status = 429, description = "Too many account requests from this IP", body = ErrorBody),
        (status = 502, description = "Cognito failed", body = ErrorBody),
    ))]
pub async fn signup(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignUpBody>,
) -> Result<Json<SignUpReply>, ApiError> {
    let accounts = accounts(&state)?;
    let username = body.username.trim();
    check(username, "username", 128)?;
    check(&body.password, "password", 256)?;
    check(body.email.trim(), "email", 254)?;
    if !body.email.contains('@') {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "email must be an email address",
        ));
    }
    let user_confirmed = accounts
        .sign_up(username, &body.password, body.email.trim())
        .await?;
    Ok(Json(SignUpReply { user_confirmed }))
}

/// Confirms an account with the emailed code.
#[utoipa::path(post, path = "/v1/auth/confirm", tag = "auth",
    request_body = ConfirmBody,
    responses(
        (status = 204, description = "Confirmed"),
        (status = 400, description = "Wrong or expired code", body = ErrorBody),
        (status = 404, description = "Not in Cognito mode", body = ErrorBody),
        (status = 429, description = "Too many account requests from this IP", body = ErrorBody),
        (status = 502, description = "Cognito failed", body = ErrorBody),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<StatusCode, ApiError> {
    let accounts = accounts(&state)?;
    let username = body.username.trim();
    check(username, "username", 128)?;
    check(body.code.trim(), "code", 64)?;
    per_username(&state, username)?;
    accounts.confirm(username, body.code.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs in with username and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Tokens", body = LoginReply),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 403, description = "Not confirmed yet, or an unsupported challenge", body = ErrorBody),
        (status = 404, description = "Not in Cognito mode", body = ErrorBody),
        (status = 429, description = "Too many account requests from this IP", body = ErrorBody),
        (status = 502, description = "Cognito failed", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Tokens<LoginReply>, ApiError> {
    let accounts = accounts(&state)?;
    let username = body.username.trim();
    check(username, "username", 128)?;
    check(&body.password, "password", 256)?;
    per_username(&state, username)?;
    let tokens = accounts.login(username, &body.password).await?;
    let Some(refresh_token) = tokens.refresh_token else {
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "the account service sent no refresh token",
        ));
    };
    Ok(Tokens(LoginReply {
        id_token: tokens.id_token,
        access_token: tokens.access_token,
        refresh_token,
        expires_in: tokens.expires_in,
    }))
}

/// Exchanges a refresh token for new ID and access tokens.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "New tokens", body = RefreshReply),
        (status = 400, description = "Bad input (or a missing username with a client secret)", body = ErrorBody),
        (status = 401, description = "The refresh token is invalid or expired", body = ErrorBody),
        (status = 404, description = "Not in Cognito mode", body = ErrorBody),
        (status = 429, description = "Too many account requests from this IP", body = ErrorBody),
        (status = 502, description = "Cognito failed", body = ErrorBody),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Tokens<RefreshReply>, ApiError> {
    let accounts = accounts(&state)?;
    check(&body.refresh_token, "refresh_token", 16384)?;
    let username = body.username.as_deref().map(str::trim);
    let tokens = accounts.refresh(&body.refresh_token, username).await?;
    Ok(Tokens(RefreshReply {
        id_token: tokens.id_token,
        access_token: tokens.access_token,
        expires_in: tokens.expires_in,
    }))
}

/// Signs out: revokes the refresh token at Cognito, so that nobody holding a copy of it can
/// get new tokens (nor use the access tokens Cognito issued from it with Cognito itself).
#[utoipa::path(post, path = "/v1/auth/signout", tag = "auth",
    request_body = SignOutBody,
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Bad input, or not a refresh token", body = ErrorBody),
        (status = 404, description = "Not in Cognito mode", body = ErrorBody),
        (status = 429, description = "Too many account requests from this IP", body = ErrorBody),
        (status = 502, description = "Cognito failed, or does not revoke this client's tokens", body = ErrorBody),
    ))]
pub async fn signout(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignOutBody>,
) -> Result<StatusCode, ApiError> {
    let accounts = accounts(&state)?;
    check(&body.refresh_token, "refresh_token", 16384)?;
    accounts.sign_out(&body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_are_never_stored() {
        let response = Tokens(serde_json::json!({"token": "t"})).into_response();
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn fields_are_checked() {
        assert!(check("ada", "username", 128).is_ok());
        assert!(check("", "username", 128).is_err());
        assert!(check("a\nb", "username", 128).is_err());
        assert!(check(&"x".repeat(129), "username", 128).is_err());
    }
}
