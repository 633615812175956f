//! # link-auth
//!
//! Authentication and rate limiting for Link, as implementations of
//! [`link_core::Authenticator`] and [`link_core::RateLimiter`]:
//!
//! - [`CognitoAuthenticator`]: Amazon Cognito user-pool ID and access tokens, with every
//!   check the reference verifier (aws-jwt-verify) does;
//! - [`JwksAuthenticator`]: the same for any OIDC issuer with a JWKS (Auth0, Keycloak, Okta);
//! - [`DevAuthenticator`]: HS256 tokens minted in-process for local development;
//! - [`ApiKeyAuthenticator`]: Link's long-lived API keys, in front of any of the above;
//! - [`GovernorRateLimiter`]: GCRA per user `sub` (25 per minute by default).
//!
//! Every refusal is an [`AuthError`] variant of its own, convertible into
//! [`link_core::Error`]. No error or log line contains a token, a key or a claim value such as
//! an email.
//!
//! ```
//! use link_auth::{CognitoAuthenticator, CognitoTokenUse};
//! let auth = CognitoAuthenticator::builder("us-east-1", "us-east-1_Example")
//!     .client_id("my-app-client")
//!     .token_use(CognitoTokenUse::Id)
//!     .build()?;
//! # Ok::<(), link_auth::AuthError>(())
//! ```

mod algorithm;
mod api_key;
mod cache;
mod claims;
mod cognito;
mod dev;
mod error;
mod jwks;
mod jwks_auth;
mod limit;
mod policy;
mod token;
mod verify_key;

pub use algorithm::JwsAlgorithm;
pub use api_key::ApiKeyAuthenticator;
pub use cache::{CachedAuthenticator, DEFAULT_TOKEN_CACHE};
pub use claims::Claims;
pub use cognito::{CognitoAuthenticator, CognitoBuilder, CognitoTokenUse};
pub use dev::{DEFAULT_DEV_LIFETIME, DEV_ISSUER, DevAuthenticator, MIN_SECRET_LEN, dev_subject};
pub use error::AuthError;
pub use jwks_auth::{
    DEFAULT_FETCH_TIMEOUT, DEFAULT_JWKS_COOLDOWN, JwksAuthenticator, JwksAuthenticatorBuilder,
};
pub use limit::{GovernorRateLimiter, RateLimitConfig};

/// The clocks a [`GovernorRateLimiter`] can run on, re-exported from `governor` so users need
/// no direct dependency: `DefaultClock` in production, `FakeRelativeClock` in tests.
pub mod clock {
    pub use governor::clock::{Clock, DefaultClock, FakeRelativeClock};
}
