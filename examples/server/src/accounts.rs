//! Cognito accounts: sign-up, confirmation, sign-in, token refresh and sign-out through the
//! Cognito user-pool API (`SignUp`, `ConfirmSignUp`, `InitiateAuth`, `RevokeToken`), rate
//! limited per client IP.
//!
//! Passwords, codes, tokens and emails pass through here but are never logged; only
//! Cognito's error codes are.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use link::Error;

use crate::error::ApiError;

/// Tokens from a successful sign-in or refresh.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The ID token (a JWT).
    pub id_token: String,
    /// The access token (a JWT).
    pub access_token: String,
    /// The refresh token; Cognito sends none on refresh.
    pub refresh_token: Option<String>,
    /// Seconds until the ID and access tokens expire.
    pub expires_in: u64,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The app client's secret; `Debug` never shows it.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// Cognito's `SECRET_HASH`: base64 of HMAC-SHA256 over `username + client_id`, keyed by the
/// app client secret.
///
/// ```
/// use link_server::accounts::{ClientSecret, secret_hash};
/// let hash = secret_hash(&ClientSecret::new("s3cr3t"), "ada", "client123");
/// assert_eq!(hash.len(), 44);
/// ```
pub fn secret_hash(secret: &ClientSecret, username: &str, client_id: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.0.as_bytes());
    let tag = hmac::sign(&key, format!("{username}{client_id}").as_bytes());
    STANDARD.encode(tag.as_ref())
}

/// The Cognito account operations behind `/v1/auth/{signup,confirm,login,refresh,signout}`.
pub struct Accounts {
    client: Client,
    client_id: String,
    secret: Option<ClientSecret>,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("client_id", &self.client_id)
            .field("has_secret", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

/// What an operation was, for mapping Cognito's errors to what the user should hear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `SignUp`.
    SignUp,
    /// `ConfirmSignUp`.
    Confirm,
    /// `InitiateAuth` with `USER_PASSWORD_AUTH`.
    Login,
    /// `InitiateAuth` with `REFRESH_TOKEN_AUTH`.
    Refresh,
    /// `RevokeToken`.
    SignOut,
}

impl Accounts {
    /// Builds the Cognito client from the standard AWS chain (credentials, endpoint, e.g.
    /// `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`), in the pool's `region` unless the chain
    /// names one.
    pub async fn connect(region: &str, client_id: &str, secret: Option<ClientSecret>) -> Arc<Self> {
        let region = aws_config::meta::region::RegionProviderChain::first_try(
            aws_config::Region::new(region.to_owned()),
        );
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(region)
            .load()
            .await;
        Arc::new(Self {
            client: Client::new(&config),
            client_id: client_id.to_owned(),
            secret,
        })
    }

    fn hash_for(&self, username: &str) -> Option<String> {
        self.secret
            .as_ref()
            .map(|s| secret_hash(s, username, &self.client_id))
    }

    /// Whether the app client has a secret (then refreshing needs the username).
    pub fn has_secret(&self) -> bool {
        self.secret.is_some()
    }

    /// `SignUp`; gives back whether the user is already confirmed.
    pub async fn sign_up(
        &self,
        username: &str,
        password: &str,
        email: &str,
    ) -> Result<bool, ApiError> {
        let email = AttributeType::builder()
            .name("email")
            .value(email)
            .build()
            .map_err(|e| internal(&e))?;
        let output = self
            .client
            .sign_up()
            .client_id(&self.client_id)
            .set_secret_hash(self.hash_for(username))
            .username(username)
            .password(password)
            .user_attributes(email)
            .send()
            .await
            .map_err(|e| cognito_error(Operation::SignUp, e))?;
        Ok(output.user_confirmed())
    }

    /// `ConfirmSignUp` with the emailed code.
    pub async fn confirm(&self, username: &str, code: &str) -> Result<(), ApiError> {
        self.client
            .confirm_sign_up()
            .client_id(&self.client_id)
            .set_secret_hash(self.hash_for(username))
            .username(username)
            .confirmation_code(code)
            .send()
            .await
            .map_err(|e| cognito_error(Operation::Confirm, e))?;
        Ok(())
    }

    /// `InitiateAuth` with `USER_PASSWORD_AUTH`.
    pub async fn login(&self, username: &str, password: &str) -> Result<Tokens, ApiError> {
        let mut request = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password);
        if let Some(hash) = self.hash_for(username) {
            request = request.auth_parameters("SECRET_HASH", hash);
        }
        let output = request
            .send()
            .await
            .map_err(|e| cognito_error(Operation::Login, e))?;
        tokens(
            output.authentication_result(),
            output.challenge_name().map(|c| c.as_str()),
        )
    }

    /// `InitiateAuth` with `REFRESH_TOKEN_AUTH`. With a client secret, Cognito needs the
    /// username the tokens were issued to (for the secret hash).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        username: Option<&str>,
    ) -> Result<Tokens, ApiError> {
        let mut request = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token);
        if self.secret.is_some() {
            let Some(username) = username.filter(|u| !u.is_empty()) else {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "this app client has a secret: give the username with the refresh token",
                ));
            };
            if let Some(hash) = self.hash_for(username) {
                request = request.auth_parameters("SECRET_HASH", hash);
            }
        }
        let output = request
            .send()
            .await
            .map_err(|e| cognito_error(Operation::Refresh, e))?;
        tokens(
            output.authentication_result(),
            output.challenge_name().map(|c| c.as_str()),
        )
    }

    /// `RevokeToken`: the refresh token, and the access tokens Cognito issued from it, stop
    /// working at Cognito (a token already verified offline by its signature still passes
    /// until it expires). Needs token revocation enabled on the app client, the default for
    /// clients made since mid-2021. A secret app client sends its secret itself, not a hash.
    pub async fn sign_out(&self, refresh_token: &str) -> Result<(), ApiError> {
        self.client
            .revoke_token()
            .token(refresh_token)
            .client_id(&self.client_id)
            .set_client_secret(self.secret.as_ref().map(|s| s.0.clone()))
            .send()
            .await
            .map_err(|e| cognito_error(Operation::SignOut, e))?;
        Ok(())
    }
}

fn tokens(
    result: Option<&aws_sdk_cognitoidentityprovider::types::AuthenticationResultType>,
    challenge: Option<&str>,
) -> Result<Tokens, ApiError> {
    let found = result.and_then(|r| {
        Some(Tokens {
            id_token: r.id_token()?.to_owned(),
            access_token: r.access_token()?.to_owned(),
            refresh_token: r.refresh_token().map(str::to_owned),
            expires_in: u64::try_from(r.expires_in()).unwrap_or(0),
        })
    });
    match (found, challenge) {
        (Some(tokens), _) => Ok(tokens),
        (None, Some(challenge)) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "challenge_required",
            format!("this account needs the {challenge} step, which Link does not support"),
        )),
        (None, None) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "the account service answered without tokens",
        )),
    }
}

fn internal(error: &dyn std::error::Error) -> ApiError {
    tracing::error!(%error, "cannot build a Cognito request");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
    )
}

/// Maps an SDK failure: Cognito's modelled errors by code, everything else (no answer,
/// timeouts, unparsable answers) as an upstream failure.
fn cognito_error<E, R>(operation: Operation, error: SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug,
{
    if let SdkError::ServiceError(service) = &error {
        let code = service.err().code().unwrap_or("Unknown");
        tracing::info!(
            ?operation,
            cognito_code = code,
            "Cognito refused the request"
        );
        return map_code(operation, code, service.err().message());
    }
    let detail = aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&error);
    tracing::warn!(?operation, error = %detail, "Cognito did not answer");
    let (status, code) = match &error {
        SdkError::TimeoutError(_) => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
        _ => (StatusCode::BAD_GATEWAY, "upstream_error"),
    };
    ApiError::new(
        status,
        code,
        "the account service is unreachable; try again",
    )
}

/// The answer for one of Cognito's error codes. Unknown users and wrong passwords get the
/// same words, so the answer does not tell which usernames exist.
pub fn map_code(operation: Operation, code: &str, message: Option<&str>) -> ApiError {
    let new = ApiError::new;
    match code {
        "UsernameExistsException" => new(
            StatusCode::CONFLICT,
            "user_exists",
            "an account with this username already exists",
        ),
        "CodeMismatchException" => new(
            StatusCode::BAD_REQUEST,
            "wrong_code",
            "the confirmation code is wrong",
        ),
        "ExpiredCodeException" => new(
            StatusCode::BAD_REQUEST,
            "expired_code",
            "the confirmation code has expired",
        ),
        "UserNotConfirmedException" => new(
            StatusCode::FORBIDDEN,
            "not_confirmed",
            "this account is not confirmed yet: enter the code sent by email",
        ),
        "NotAuthorizedException" | "UserNotFoundException" => match operation {
            Operation::Refresh => new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the session has expired: sign in again",
            ),
            Operation::Confirm if code == "UserNotFoundException" => new(
                StatusCode::BAD_REQUEST,
                "wrong_code",
                "the confirmation code is wrong",
            ),
            _ => new(
                StatusCode::UNAUTHORIZED,
                "wrong_credentials",
                "wrong username or password",
            ),
        },
        "InvalidPasswordException" => new(
            StatusCode::BAD_REQUEST,
            "invalid_password",
            message.unwrap_or("the password does not meet the password policy"),
        ),
        "UnsupportedTokenTypeException" => new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "that is not a refresh token",
        ),
        "UnsupportedOperationException" => new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "the account service does not revoke tokens of this app client (enable token revocation)",
        ),
        "InvalidParameterException" => new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            message.unwrap_or("a parameter is invalid"),
        ),
        "TooManyRequestsException"
        | "LimitExceededException"
        | "TooManyFailedAttemptsException" => ApiError::from(Error::RateLimited {
            retry_after: Duration::from_secs(30),
        }),
        _ => new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "the account service failed",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_hash_matches_an_independent_computation() {
        // python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(
        //   b"s3cr3t", b"ada" + b"client123", hashlib.sha256).digest()).decode())'
        let hash = secret_hash(&ClientSecret::new("s3cr3t"), "ada", "client123");
        assert_eq!(hash, EXPECTED_HASH);
        assert_ne!(
            secret_hash(&ClientSecret::new("s3cr3t"), "bob", "client123"),
            hash
        );
        assert_eq!(
            format!("{:?}", ClientSecret::new("s3cr3t")),
            "ClientSecret(..)"
        );
    }

    const EXPECTED_HASH: &str = "Q7B72tjXNtBB2W3QV7DPi/5FNhAZeG2r8J/8lsMGUEM=";

    #[test]
    fn cognito_codes_map_to_clear_answers() {
        let cases = [
            (
                Operation::SignUp,
                "UsernameExistsException",
                409,
                "user_exists",
            ),
            (
                Operation::Confirm,
                "CodeMismatchException",
                400,
                "wrong_code",
            ),
            (
                Operation::Confirm,
                "ExpiredCodeException",
                400,
                "expired_code",
            ),
            (
                Operation::Confirm,
                "UserNotFoundException",
                400,
                "wrong_code",
            ),
            (
                Operation::Login,
                "UserNotConfirmedException",
                403,
                "not_confirmed",
            ),
            (
                Operation::Login,
                "NotAuthorizedException",
                401,
                "wrong_credentials",
            ),
            (
                Operation::Login,
                "UserNotFoundException",
                401,
                "wrong_credentials",
            ),
            (
                Operation::Refresh,
                "NotAuthorizedException",
                401,
                "unauthorized",
            ),
            (
                Operation::SignUp,
                "TooManyRequestsException",
                429,
                "rate_limited",
            ),
            (
                Operation::SignOut,
                "UnsupportedTokenTypeException",
                400,
                "invalid_request",
            ),
            (
                Operation::SignOut,
                "UnsupportedOperationException",
                502,
                "upstream_error",
            ),
            (
                Operation::SignOut,
                "UnauthorizedException",
                502,
                "upstream_error",
            ),
            (
                Operation::SignUp,
                "InternalErrorException",
                502,
                "upstream_error",
            ),
        ];
        for (operation, code, status, expected) in cases {
            let error = map_code(operation, code, None);
            assert_eq!(error.status().as_u16(), status, "{code}");
            assert_eq!(error.code(), expected, "{code}");
        }
        let policy = map_code(
            Operation::SignUp,
            "InvalidPasswordException",
            Some("Password must have uppercase characters"),
        );
        assert_eq!(policy.status(), StatusCode::BAD_REQUEST);
        assert_eq!(policy.message(), "Password must have uppercase characters");
    }
}
