//! Why a token (or a configuration) was refused: one variant per reason.
//!
//! Messages are safe to log: they never contain the token, a key, or claim values such as
//! email addresses. Values that come from the token's header (like `alg`) are only echoed
//! when they are one of the known algorithm names.

use std::time::Duration;

/// Everything that can go wrong in link-auth.
///
/// Every rejection of a token has its own variant, so callers and tests can tell an expired
/// token from a forged one. Convert into [`link_core::Error`] with `?` or `.into()`:
/// token problems become [`link_core::Error::Unauthorized`], an unreachable key set becomes
/// a retryable [`link_core::Error::Provider`], and bad settings become
/// [`link_core::Error::Config`].
///
/// ```
/// use link_auth::AuthError;
/// let err: link_core::Error = AuthError::Expired.into();
/// assert_eq!(err.code(), "unauthorized");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token is not three dot-separated parts.
    #[error("malformed token: expected 3 parts, found {found}")]
    WrongPartCount {
        /// How many parts the token had.
        found: usize,
    },
    /// A part of the token is not base64url.
    #[error("malformed token: the {part} is not base64url")]
    NotBase64Url {
        /// Which part: `"header"`, `"payload"` or `"signature"`.
        part: &'static str,
    },
    /// The signature part is empty.
    #[error("malformed token: the signature is empty")]
    MissingSignature,
    /// The header does not decode to a JSON object.
    #[error("malformed token: the header is not a JSON object")]
    HeaderNotJson,
    /// The payload does not decode to a JSON object.
    #[error("malformed token: the payload is not a JSON object")]
    PayloadNotJson,
    /// The header has no `alg` string.
    #[error("malformed token: the header has no alg")]
    MissingAlgorithm,
    /// The token says `alg: none`: it is not signed at all.
    #[error("unsigned token (alg none) refused")]
    UnsecuredAlgorithm,
    /// The token's algorithm is not in the allow-list (or is unknown).
    #[error("algorithm {alg} is not allowed")]
    AlgorithmNotAllowed {
        /// The algorithm's name, or `"unrecognised"`.
        alg: String,
    },
    /// The token's algorithm differs from the one its key is for.
    #[error("algorithm {token} does not match the key's algorithm {key}")]
    AlgorithmMismatch {
        /// The algorithm named by the token (or `"unrecognised"`).
        token: String,
        /// The algorithm (or key type) of the key.
        key: String,
    },
    /// The header has no `kid`.
    #[error("the token has no key id (kid)")]
    MissingKeyId,
    /// No key with the token's `kid` is in the key set, even after a refresh.
    #[error("unknown key id")]
    UnknownKeyId,
    /// The key's `use` is not `sig`.
    #[error("the key is not meant for signatures")]
    KeyNotForSignatures,
    /// The signature does not verify.
    #[error("invalid signature")]
    InvalidSignature,
    /// A required claim is absent.
    #[error("the {claim} claim is missing")]
    MissingClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// A claim has the wrong type (e.g. `exp` is not a number).
    #[error("the {claim} claim is malformed")]
    InvalidClaim {
        /// The claim's name.
        claim: &'static str,
    },
    /// The token has expired (`exp`, allowing for the configured grace).
    #[error("token expired")]
    Expired,
    /// The token is not valid yet (`nbf`, allowing for the configured grace).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the expected issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `token_use` is not an accepted one (e.g. an access token where an ID token is required).
    #[error("wrong token use: expected {expected}")]
    WrongTokenUse {
        /// What was accepted, e.g. `"id"`.
        expected: &'static str,
    },
    /// `aud` holds none of the accepted audiences.
    #[error("wrong audience")]
    WrongAudience,
    /// The app client id (`aud` of an ID token, `client_id` of an access token) is not accepted.
    #[error("wrong client id")]
    WrongClientId,
    /// The user is in none of the required groups.
    #[error("not in a required group")]
    MissingGroup,
    /// The custom check refused the token.
    #[error("custom check failed: {reason}")]
    CustomCheck {
        /// The reason the check gave.
        reason: String,
    },
    /// The key set could not be fetched (and no cached key fits).
    #[error("key set unavailable: {message}")]
    JwksUnavailable {
        /// What went wrong (status, timeout, parse error); never a key.
        message: String,
        /// The HTTP status, when there was one.
        status: Option<u16>,
    },
    /// The HMAC secret of a [`DevAuthenticator`](crate::DevAuthenticator) is too short.
    #[error("dev secret too short: {length} bytes, at least {minimum} needed")]
    WeakSecret {
        /// The secret's length.
        length: usize,
        /// The minimum length.
        minimum: usize,
    },
    /// The authenticator or limiter was configured wrongly.
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// A token could not be minted.
    #[error("could not mint a token: {message}")]
    Mint {
        /// What went wrong.
        message: String,
    },
}

impl From<AuthError> for link_core::Error {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::JwksUnavailable { message, status } => {
                link_core::Error::provider("jwks", message)
                    .with_status(status)
                    .with_retryable(true)
                    .with_retry_after(Duration::from_secs(1))
            }
            AuthError::WeakSecret { .. } | AuthError::Config { .. } | AuthError::Mint { .. } => {
                link_core::Error::Config {
                    message: err.to_string(),
                }
            }
            other => link_core::Error::Unauthorized {
                reason: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_problems_map_to_unauthorized_and_outages_to_retryable_provider_errors() {
        let err: link_core::Error = AuthError::UnknownKeyId.into();
        assert_eq!(err, link_core::Error::unauthorized("unknown key id"));
        let err: link_core::Error = AuthError::JwksUnavailable {
            message: "timed out".into(),
            status: None,
        }
        .into();
        assert!(err.is_retryable());
        let err: link_core::Error = AuthError::WeakSecret {
            length: 3,
            minimum: 32,
        }
        .into();
        assert_eq!(err.code(), "config_error");
    }
}
