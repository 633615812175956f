//! Authentication: the `Caller` extractor for protected routes, and dev-mode token minting.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use link_core::{RequestContext, RequestId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::json::ApiJson;
use crate::state::AppState;

/// The authenticated caller of a request, with the request's id.
#[derive(Debug, Clone)]
pub struct Caller(pub RequestContext);

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(RequestId::generate);
        let Some(token) = bearer(&parts.headers) else {
            tracing::info!("request without a bearer token refused");
            return Err(ApiError::unauthorized());
        };
        match state.auth.authenticate(token).await {
            Ok(principal) => Ok(Caller(
                RequestContext::new(principal).with_request_id(request_id),
            )),
            Err(error) => {
                // The reason names the failed check, never the token or its claims.
                tracing::info!(reason = %error, "bearer token refused");
                Err(ApiError::unauthorized())
            }
        }
    }
}

/// `POST /v1/auth/token` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Any name; the same name always maps to the same user.
    pub username: String,
}

/// A minted dev token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The bearer token.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// The stable subject for a dev username.
pub fn dev_subject(username: &str) -> String {
    let digest = Sha256::digest(format!("link-dev:{}", username.to_lowercase()));
    format!("dev-{}", hex::encode(&digest[..16]))
}

/// Mints a dev token for a name (dev mode only).
#[utoipa::path(
    post, path = "/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "A dev token", body = TokenResponse),
        (status = 400, description = "Bad username", body = crate::error::ErrorBody),
        (status = 404, description = "Not in dev mode", body = crate::error::ErrorBody),
    )
)]
pub async fn mint_dev_token(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
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
        .mint_with_username(&dev_subject(username), username)
        .map_err(link_core::Error::from)?;
    Ok(Json(TokenResponse {
        token,
        expires_in: dev.lifetime.as_secs(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_strictly() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, "Bearer abc.def.ghi".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc.def.ghi"));
        headers.insert(AUTHORIZATION, "bearer  xyz ".parse().unwrap());
        assert_eq!(bearer(&headers), Some("xyz"));
        headers.insert(AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn dev_subjects_are_stable_and_case_insensitive() {
        assert_eq!(dev_subject("Alice"), dev_subject("alice"));
        assert_ne!(dev_subject("alice"), dev_subject("bob"));
        assert!(dev_subject("alice").starts_with("dev-"));
    }
}
