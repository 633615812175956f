//! [`DevAuthenticator`]: HS256 tokens minted and verified in-process, for local development
//! and the examples' embedded default. Not for production: anyone with the secret can mint.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use link_core::{Authenticator, Principal};
use serde_json::{Value, json};

use crate::jwks_auth::log_rejection;
use crate::policy::{Policy, TokenUses, unix_now};
use crate::{AuthError, Claims, token};

/// The `iss` of every dev token.
pub const DEV_ISSUER: &str = "link-dev";
/// The shortest accepted HMAC secret, in bytes (the output size of SHA-256).
pub const MIN_SECRET_LEN: usize = 32;
/// How long a minted token lives by default.
pub const DEFAULT_DEV_LIFETIME: Duration = Duration::from_secs(3600);

/// Mints and verifies HS256 tokens with a local secret (`iss` `"link-dev"`,
/// `token_use` `"dev"`).
///
/// Verification is as strict as for real tokens: shape, `alg` must be HS256, signature,
/// `exp`/`nbf`, issuer and token use.
///
/// ```
/// use link_auth::DevAuthenticator;
/// use link_core::Authenticator;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let auth = DevAuthenticator::random();
/// let token = auth.mint("alice").unwrap();
/// let principal = auth.authenticate(&token).await.unwrap();
/// assert_eq!(principal.sub, "alice");
/// assert!(DevAuthenticator::new(b"too short").is_err());
/// # });
/// ```
#[derive(Clone)]
pub struct DevAuthenticator {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime: Duration,
    policy: Policy,
}

impl DevAuthenticator {
    /// An authenticator with `secret`; refuses secrets shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, AuthError> {
        let secret = secret.as_ref();
        if secret.len() < MIN_SECRET_LEN {
            return Err(AuthError::WeakSecret {
                length: secret.len(),
                minimum: MIN_SECRET_LEN,
            });
        }
        Ok(Self::with_secret(secret))
    }

    /// An authenticator with a random secret for this process only: its tokens stop
    /// working when the process ends.
    pub fn random() -> Self {
        let mut secret = [0u8; 32];
        rand::fill(&mut secret);
        Self::with_secret(&secret)
    }

    fn with_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            lifetime: DEFAULT_DEV_LIFETIME,
            policy: Policy {
                issuer: Some(DEV_ISSUER.into()),
                token_uses: Some(TokenUses {
                    accepted: &["dev"],
                    label: "dev",
                }),
                ..Policy::default()
            },
        }
    }

    /// Sets how long minted tokens live (default one hour).
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Mints a token for a user name: the subject is [`dev_subject`] of the name, so the same
    /// name (in any letter case) is always the same user, and the name rides along for display.
    pub fn mint_for_username(&self, username: &str) -> Result<String, AuthError> {
        self.mint_claims(&dev_subject(username), Some(username))
    }

    /// Mints a token for `sub`.
    pub fn mint(&self, sub: &str) -> Result<String, AuthError> {
        self.mint_claims(sub, None)
    }

    /// Mints a token for `sub` that also carries a display `username`.
    pub fn mint_with_username(&self, sub: &str, username: &str) -> Result<String, AuthError> {
        self.mint_claims(sub, Some(username))
    }

    fn mint_claims(&self, sub: &str, username: Option<&str>) -> Result<String, AuthError> {
        if sub.is_empty() {
            return Err(AuthError::Mint {
                message: "the subject is empty".into(),
            });
        }
        let now = unix_now().floor() as u64;
        let mut claims = json!({
            "iss": DEV_ISSUER,
            "sub": sub,
            "token_use": "dev",
            "iat": now,
            "exp": now + self.lifetime.as_secs(),
        });
        if let (Some(name), Value::Object(map)) = (username, &mut claims) {
            map.insert("username".into(), Value::String(name.to_owned()));
        }
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            AuthError::Mint {
                message: e.to_string(),
            }
        })
    }

    /// Verifies a dev token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let parsed = token::parse(token)?;
        if parsed.alg != "HS256" {
            return Err(AuthError::AlgorithmNotAllowed {
                alg: crate::algorithm::printable_alg(&parsed.alg),
            });
        }
        let valid = jsonwebtoken::crypto::verify(
            parsed.signature,
            parsed.signing_input.as_bytes(),
            &self.decoding,
            Algorithm::HS256,
        )
        .unwrap_or(false);
        if !valid {
            return Err(AuthError::InvalidSignature);
        }
        let claims = Claims::new(parsed.payload);
        self.policy.check(&claims)?;
        Ok(claims)
    }
}

#[async_trait]
impl Authenticator for DevAuthenticator {
    async fn authenticate(&self, token: &str) -> link_core::Result<Principal> {
        let claims = self.verify(token).inspect_err(log_rejection)?;
        Ok(claims.to_principal()?)
    }
}

impl fmt::Debug for DevAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevAuthenticator")
            .field("secret", &"[redacted]")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// The stable subject dev mode gives a user name: `dev-` and 32 hex digits of a SHA-256 of the
/// lower-cased name. The server's token route and the CLI's in-process engine both use it, so
/// the same name sees the same conversations through either.
///
/// ```
/// use link_auth::dev_subject;
/// assert_eq!(dev_subject("Alice"), dev_subject("alice"));
/// assert!(dev_subject("alice").starts_with("dev-"));
/// ```
pub fn dev_subject(username: &str) -> String {
    let input = format!("link-dev:{}", username.to_lowercase());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes());
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("dev-{hex}")
}
