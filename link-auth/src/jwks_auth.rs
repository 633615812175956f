//! [`JwksAuthenticator`]: verifies JWTs from any OIDC issuer that publishes a JWKS
//! (Cognito, Auth0, Keycloak, Okta, ...).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use link_core::{Authenticator, Principal};

use crate::algorithm::printable_alg;
use crate::jwks::{JwkKey, JwksCache};
use crate::policy::{CustomCheck, Policy, TokenUses};
use crate::{AuthError, Claims, JwsAlgorithm, token};

/// Default wait before another refresh for an unknown `kid`.
pub const DEFAULT_JWKS_COOLDOWN: Duration = Duration::from_secs(10);
/// Default limit for one JWKS fetch.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// Verifies RS/PS/ES/EdDSA-signed JWTs against an issuer's JSON Web Key Set.
///
/// Checks, in this order: token shape; `alg` present and not `none`; non-empty base64url
/// signature; JSON header and payload; `kid` present and in the key set (one refresh on an
/// unknown `kid`, then a cool-down); key `use` is `sig`; token `alg` equals the key's `alg`
/// and is in the allow-list; signature; `exp`/`nbf` with the configured grace; `iss`;
/// audience; groups; custom check. Cheap to clone: clones share the key cache.
///
/// ```no_run
/// # async fn run() -> Result<(), link_auth::AuthError> {
/// use link_auth::JwksAuthenticator;
/// let auth = JwksAuthenticator::builder("https://issuer.example.com/")
///     .audience(["my-api"])
///     .build()?;
/// let claims = auth.verify("eyJ...").await?;
/// println!("hello {:?}", claims.sub());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct JwksAuthenticator {
    inner: Arc<Inner>,
}

struct Inner {
    cache: JwksCache,
    policy: Policy,
    allowed: Vec<JwsAlgorithm>,
}

impl JwksAuthenticator {
    /// Starts a builder for tokens issued by `issuer` (compared exactly with `iss`).
    /// The JWKS URL defaults to `{issuer}/.well-known/jwks.json`.
    pub fn builder(issuer: impl Into<String>) -> JwksAuthenticatorBuilder {
        JwksAuthenticatorBuilder::new(issuer.into())
    }

    /// Verifies `token` and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let parsed = token::parse(token)?;
        let kid = parsed.kid.as_deref().ok_or(AuthError::MissingKeyId)?;
        let key = self.inner.cache.key(kid).await?;
        let alg = self.check_key(&parsed.alg, &key)?;
        let valid = key
            .key
            .verify(alg, parsed.signing_input.as_bytes(), parsed.signature);
        if !valid {
            return Err(AuthError::InvalidSignature);
        }
        let claims = Claims::new(parsed.payload);
        self.inner.policy.check(&claims)?;
        Ok(claims)
    }

    /// Fetches the key set now (e.g. at start-up, to fail fast), ignoring the cool-down.
    pub async fn refresh_keys(&self) -> Result<(), AuthError> {
        self.inner.cache.refresh().await
    }

    /// The key's `use` and `alg` must fit the token: this is what stops algorithm confusion.
    fn check_key(&self, token_alg: &str, key: &JwkKey) -> Result<JwsAlgorithm, AuthError> {
        if key.key_use.as_deref().is_some_and(|u| u != "sig") {
            return Err(AuthError::KeyNotForSignatures);
        }
        if let Some(key_alg) = &key.alg
            && key_alg != token_alg
        {
            return Err(AuthError::AlgorithmMismatch {
                token: printable_alg(token_alg),
                key: printable_alg(key_alg),
            });
        }
        let alg = JwsAlgorithm::from_name(token_alg)
            .filter(|alg| self.inner.allowed.contains(alg))
            .ok_or_else(|| AuthError::AlgorithmNotAllowed {
                alg: printable_alg(token_alg),
            })?;
        if alg.family() != key.family {
            return Err(AuthError::AlgorithmMismatch {
                token: alg.name().to_owned(),
                key: format!("{:?} key", key.family),
            });
        }
        Ok(alg)
    }
}

#[async_trait]
impl Authenticator for JwksAuthenticator {
    async fn authenticate(&self, token: &str) -> link_core::Result<Principal> {
        let claims = self.verify(token).await.inspect_err(log_rejection)?;
        Ok(claims.to_principal()?)
    }
}

/// Logs why a token was refused: the reason only, never the token or its claims.
pub(crate) fn log_rejection(err: &AuthError) {
    tracing::debug!(reason = %err, "token rejected");
}

impl fmt::Debug for JwksAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksAuthenticator")
            .field("jwks", &self.inner.cache)
            .field("policy", &self.inner.policy)
            .field("allowed", &self.inner.allowed)
            .finish()
    }
}

/// Settings of a [`JwksAuthenticator`].
#[must_use]
pub struct JwksAuthenticatorBuilder {
    jwks_url: Option<String>,
    policy: Policy,
    allowed: Vec<JwsAlgorithm>,
    cooldown: Duration,
    timeout: Duration,
}

impl JwksAuthenticatorBuilder {
    fn new(issuer: String) -> Self {
        Self {
            jwks_url: None,
            policy: Policy {
                issuer: Some(issuer),
                ..Policy::default()
            },
            allowed: JwsAlgorithm::ALL.to_vec(),
            cooldown: DEFAULT_JWKS_COOLDOWN,
            timeout: DEFAULT_FETCH_TIMEOUT,
        }
    }

    /// Where to fetch the key set, when it is not `{issuer}/.well-known/jwks.json`
    /// (local emulators serve it elsewhere).
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// The algorithms accepted (default: all of [`JwsAlgorithm::ALL`]).
    pub fn allowed_algorithms(mut self, algs: impl IntoIterator<Item = JwsAlgorithm>) -> Self {
        self.allowed = algs.into_iter().collect();
        self
    }

    /// Grace for clock skew when checking `exp` and `nbf` (default: none).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.policy.leeway = leeway;
        self
    }

    /// Requires `aud` to hold one of these values.
    pub fn audience<S: Into<String>>(mut self, audiences: impl IntoIterator<Item = S>) -> Self {
        self.policy.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// Requires the user to be in at least one of these groups (`cognito:groups`).
    pub fn required_groups<S: Into<String>>(mut self, groups: impl IntoIterator<Item = S>) -> Self {
        self.policy.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// A last check on the verified claims; `Err(reason)` refuses the token. The reason is
    /// logged, so it must not contain claim values such as an email.
    pub fn custom_check(
        mut self,
        check: impl Fn(&Claims) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        let check: CustomCheck = Arc::new(check);
        self.policy.custom = Some(check);
        self
    }

    /// Minimum wait between two refreshes for unknown `kid`s (default 10 s).
    pub fn jwks_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Time limit for one JWKS fetch (default 3 s).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub(crate) fn token_uses(mut self, uses: TokenUses) -> Self {
        self.policy.token_uses = Some(uses);
        self
    }

    pub(crate) fn client_ids(mut self, ids: Vec<String>) -> Self {
        self.policy.client_ids = ids;
        self
    }

    /// Builds the authenticator. Nothing is fetched yet: the key set is loaded on first use
    /// (or by [`JwksAuthenticator::refresh_keys`]).
    pub fn build(self) -> Result<JwksAuthenticator, AuthError> {
        let issuer = self.policy.issuer.clone().unwrap_or_default();
        if issuer.is_empty() {
            return Err(AuthError::Config {
                message: "the issuer is empty".into(),
            });
        }
        if self.allowed.is_empty() {
            return Err(AuthError::Config {
                message: "no signature algorithm is allowed".into(),
            });
        }
        let url = self
            .jwks_url
            .unwrap_or_else(|| format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')));
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(AuthError::Config {
                message: "the JWKS URL must be http(s)".into(),
            });
        }
        Ok(JwksAuthenticator {
            inner: Arc::new(Inner {
                cache: JwksCache::new(url, self.cooldown, self.timeout)?,
                policy: self.policy,
                allowed: self.allowed,
            }),
        })
    }
}

impl fmt::Debug for JwksAuthenticatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksAuthenticatorBuilder")
            .field("jwks_url", &self.jwks_url)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
