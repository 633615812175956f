//! [`CognitoAuthenticator`]: Amazon Cognito user-pool tokens, on top of [`JwksAuthenticator`].

use std::time::Duration;

use async_trait::async_trait;
use link_core::{Authenticator, Principal};

use crate::jwks_auth::log_rejection;
use crate::policy::TokenUses;
use crate::{AuthError, Claims, JwksAuthenticator, JwksAuthenticatorBuilder};

/// Which Cognito tokens are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CognitoTokenUse {
    /// ID tokens only (`token_use: "id"`; client id in `aud`).
    Id,
    /// Access tokens only (`token_use: "access"`; client id in `client_id`).
    Access,
    /// Either kind.
    #[default]
    Any,
}

impl CognitoTokenUse {
    fn uses(self) -> TokenUses {
        match self {
            Self::Id => TokenUses {
                accepted: &["id"],
                label: "id",
            },
            Self::Access => TokenUses {
                accepted: &["access"],
                label: "access",
            },
            Self::Any => TokenUses {
                accepted: &["id", "access"],
                label: "id or access",
            },
        }
    }
}

/// Verifies Amazon Cognito user-pool ID and access tokens.
///
/// Everything [`JwksAuthenticator`] checks, plus `token_use` and the app client id (`aud` of
/// ID tokens, `client_id` of access tokens), with the issuer
/// `https://cognito-idp.{region}.amazonaws.com/{pool_id}`.
///
/// ```
/// use link_auth::{CognitoAuthenticator, CognitoTokenUse};
/// let auth = CognitoAuthenticator::builder("eu-west-1", "eu-west-1_AbCdEf123")
///     .client_id("4b3k0example")
///     .token_use(CognitoTokenUse::Access)
///     .build()
///     .unwrap();
/// assert_eq!(auth.issuer(), "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123");
/// ```
#[derive(Debug, Clone)]
pub struct CognitoAuthenticator {
    jwks: JwksAuthenticator,
    issuer: String,
}

impl CognitoAuthenticator {
    /// Starts a builder for the user pool `pool_id` in `region`.
    pub fn builder(region: impl Into<String>, pool_id: impl Into<String>) -> CognitoBuilder {
        CognitoBuilder {
            region: region.into(),
            pool_id: pool_id.into(),
            client_ids: Vec::new(),
            token_use: CognitoTokenUse::default(),
            jwks_url: None,
            groups: Vec::new(),
            leeway: Duration::ZERO,
            cooldown: crate::DEFAULT_JWKS_COOLDOWN,
            timeout: crate::DEFAULT_FETCH_TIMEOUT,
            custom: None,
        }
    }

    /// The issuer tokens must name in `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Verifies `token` and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.jwks.verify(token).await
    }

    /// Fetches the key set now, ignoring the cool-down.
    pub async fn refresh_keys(&self) -> Result<(), AuthError> {
        self.jwks.refresh_keys().await
    }
}

#[async_trait]
impl Authenticator for CognitoAuthenticator {
    async fn authenticate(&self, token: &str) -> link_core::Result<Principal> {
        let claims = self.verify(token).await.inspect_err(log_rejection)?;
        Ok(claims.to_principal()?)
    }
}

type BoxedCheck = Box<dyn Fn(&Claims) -> Result<(), String> + Send + Sync>;

/// Settings of a [`CognitoAuthenticator`].
#[must_use]
pub struct CognitoBuilder {
    region: String,
    pool_id: String,
    client_ids: Vec<String>,
    token_use: CognitoTokenUse,
    jwks_url: Option<String>,
    groups: Vec<String>,
    leeway: Duration,
    cooldown: Duration,
    timeout: Duration,
    custom: Option<BoxedCheck>,
}

impl CognitoBuilder {
    /// Accepts tokens of this app client (call again to accept several). Required.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_ids.push(id.into());
        self
    }

    /// Which tokens are accepted (default: ID and access tokens).
    pub fn token_use(mut self, token_use: CognitoTokenUse) -> Self {
        self.token_use = token_use;
        self
    }

    /// Where to fetch the key set when it is not `{issuer}/.well-known/jwks.json`
    /// (e.g. `http://127.0.0.1:5000/{pool_id}/.well-known/jwks.json` for moto).
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// Requires the user to be in at least one of these groups (`cognito:groups`).
    pub fn required_groups<S: Into<String>>(mut self, groups: impl IntoIterator<Item = S>) -> Self {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Grace for clock skew when checking `exp` and `nbf` (default: none).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
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

    /// A last check on the verified claims; `Err(reason)` refuses the token. The reason is
    /// logged, so it must not contain claim values such as an email.
    pub fn custom_check(
        mut self,
        check: impl Fn(&Claims) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.custom = Some(Box::new(check));
        self
    }

    /// Builds the authenticator; fails on an empty region, a malformed pool id or no client id.
    pub fn build(self) -> Result<CognitoAuthenticator, AuthError> {
        let config = |message: &str| AuthError::Config {
            message: message.into(),
        };
        let well_formed = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !well_formed(&self.region) {
            return Err(config("the Cognito region is empty or malformed"));
        }
        if !well_formed(&self.pool_id) {
            return Err(config("the Cognito user pool id is empty or malformed"));
        }
        if self.client_ids.is_empty() {
            return Err(config("at least one Cognito app client id is required"));
        }
        let issuer = format!(
            "https://cognito-idp.{}.amazonaws.com/{}",
            self.region, self.pool_id
        );
        let mut jwks: JwksAuthenticatorBuilder = JwksAuthenticator::builder(issuer.clone())
            .token_uses(self.token_use.uses())
            .client_ids(self.client_ids)
            .required_groups(self.groups)
            .leeway(self.leeway)
            .jwks_cooldown(self.cooldown)
            .fetch_timeout(self.timeout);
        if let Some(url) = self.jwks_url {
            jwks = jwks.jwks_url(url);
        }
        if let Some(check) = self.custom {
            jwks = jwks.custom_check(check);
        }
        Ok(CognitoAuthenticator {
            jwks: jwks.build()?,
            issuer,
        })
    }
}

impl std::fmt::Debug for CognitoBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CognitoBuilder")
            .field("region", &self.region)
            .field("pool_id", &self.pool_id)
            .field("client_ids", &self.client_ids)
            .field("token_use", &self.token_use)
            .field("jwks_url", &self.jwks_url)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_refuses_incomplete_or_malformed_settings() {
        let no_client = CognitoAuthenticator::builder("us-east-1", "us-east-1_abc").build();
        assert!(matches!(no_client, Err(AuthError::Config { .. })));
        let bad_pool = CognitoAuthenticator::builder("us-east-1", "../evil")
            .client_id("c")
            .build();
        assert!(matches!(bad_pool, Err(AuthError::Config { .. })));
    }
}
