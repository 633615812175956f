//! Signing in: the auth mode, dev tokens, and the Cognito account routes.

use serde::{Deserialize, Serialize};

/// `GET /v1/auth/mode` answer: how the page should sign people in.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthModeBody {
    /// `dev` (a name is enough: `POST /v1/auth/token`) or `cognito` (accounts:
    /// `/v1/auth/signup`, `/confirm`, `/login`, `/refresh`).
    pub mode: String,
}

/// `POST /v1/auth/signup`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignUpBody {
    /// The username to sign in with.
    pub username: String,
    /// The password (checked against the pool's password policy).
    pub password: String,
    /// Where the confirmation code is sent.
    pub email: String,
}

/// `POST /v1/auth/signup` answer.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignUpReply {
    /// Whether the account is already confirmed (otherwise a code was emailed).
    pub user_confirmed: bool,
}

/// `POST /v1/auth/confirm`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmBody {
    /// The username signed up with.
    pub username: String,
    /// The emailed confirmation code.
    pub code: String,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginBody {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// `POST /v1/auth/login` answer.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginReply {
    /// The ID token: send it as `Authorization: Bearer <id_token>`.
    pub id_token: String,
    /// The access token (also accepted as a bearer token unless `COGNITO_TOKEN_USE` says otherwise).
    pub access_token: String,
    /// Exchanges for new tokens at `POST /v1/auth/refresh`.
    pub refresh_token: String,
    /// Seconds until the ID and access tokens expire.
    pub expires_in: u64,
}

/// `POST /v1/auth/refresh`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshBody {
    /// The refresh token from `POST /v1/auth/login`.
    pub refresh_token: String,
    /// The username signed in with; needed only when the app client has a secret (Cognito's
    /// secret hash for refreshing is computed over it).
    pub username: Option<String>,
}

/// `POST /v1/auth/signout`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignOutBody {
    /// The refresh token from `POST /v1/auth/login`, to revoke.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 16384))]
    pub refresh_token: String,
}

/// `POST /v1/auth/refresh` answer.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshReply {
    /// A new ID token.
    pub id_token: String,
    /// A new access token.
    pub access_token: String,
    /// Seconds until they expire.
    pub expires_in: u64,
}

/// `POST /v1/auth/token` (dev mode only).
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRequest {
    /// Any name; the same name always maps to the same user. Surrounding spaces are
    /// trimmed; what remains is 1 to 64 characters, none of them a control character.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            // No control character (Unicode Cc), and one that is not a space.
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
        )
    )]
    pub username: String,
}

/// A minted dev token.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// The bearer token.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}
