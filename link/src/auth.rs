//! Who may call: the authenticator the settings choose (dev HMAC tokens or Amazon Cognito),
//! the dev token minter that goes with dev mode, and everything of `link-auth` (Cognito and
//! any-OIDC JWT verification, dev tokens, the governor rate limiter).

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use link_core::{Authenticator, Error, Result};
use secrecy::ExposeSecret;

pub use link_auth::*;

use crate::Secrets;
use crate::config::FromEnv;

/// How bearer tokens are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Locally minted HMAC tokens (development only).
    Dev,
    /// Amazon Cognito user-pool JWTs.
    Cognito,
}

/// Which Cognito tokens are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenUseArg {
    /// ID tokens only.
    Id,
    /// Access tokens only.
    Access,
    /// Either.
    Any,
}

impl From<TokenUseArg> for CognitoTokenUse {
    fn from(value: TokenUseArg) -> Self {
        match value {
            TokenUseArg::Id => CognitoTokenUse::Id,
            TokenUseArg::Access => CognitoTokenUse::Access,
            TokenUseArg::Any => CognitoTokenUse::Any,
        }
    }
}

/// How callers prove who they are: the settings of a transport that takes bearer tokens.
#[derive(Debug, Clone, Args)]
#[group(id = "authentication")]
pub struct AuthConfig {
    /// How bearer tokens are verified (dev when unset, which a server may refuse where others
    /// can reach it).
    #[arg(long, env = "LINK_AUTH", value_enum)]
    pub auth: Option<AuthMode>,

    /// Cognito region.
    #[arg(long, env = "COGNITO_REGION")]
    pub cognito_region: Option<String>,

    /// Cognito user pool id.
    #[arg(long, env = "COGNITO_USER_POOL_ID")]
    pub cognito_user_pool_id: Option<String>,

    /// Cognito app client id.
    #[arg(long, env = "COGNITO_CLIENT_ID")]
    pub cognito_client_id: Option<String>,

    /// JWKS URL, when not the issuer's (local emulators serve it elsewhere).
    #[arg(long, env = "COGNITO_JWKS_URL")]
    pub cognito_jwks_url: Option<String>,

    /// Which Cognito tokens are accepted.
    #[arg(long, env = "COGNITO_TOKEN_USE", value_enum, default_value_t = TokenUseArg::Any)]
    pub cognito_token_use: TokenUseArg,

    /// How many verified Cognito tokens are kept (by hash) until they expire, so a client's
    /// next request skips the signature check; 0 verifies every request.
    #[arg(long, env = "LINK_TOKEN_CACHE", default_value_t = DEFAULT_TOKEN_CACHE)]
    pub token_cache: usize,
}

/// The authenticator, and in dev mode the minter of its tokens.
#[derive(Debug, Clone)]
pub struct Auth {
    /// Verifies bearer tokens.
    pub authenticator: Arc<dyn Authenticator>,
    /// In dev mode, mints the tokens the authenticator accepts.
    pub dev: Option<DevTokens>,
}

/// Dev-mode token minting.
#[derive(Clone)]
pub struct DevTokens {
    /// Mints and verifies the tokens.
    pub authenticator: Arc<DevAuthenticator>,
    /// How long minted tokens live.
    pub lifetime: Duration,
}

impl std::fmt::Debug for DevTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevTokens")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// The settings from the environment alone (`LINK_AUTH`, `COGNITO_*`).
    pub fn from_env() -> Result<Self> {
        FromEnv::<Self>::parse_env()
    }

    /// The mode in force: the one `LINK_AUTH` names, dev when it names none. Whether it was
    /// named is `auth.is_some()`, which a transport uses to refuse implicit dev auth where
    /// strangers could reach it.
    pub fn mode(&self) -> AuthMode {
        self.auth.unwrap_or(AuthMode::Dev)
    }

    /// The Cognito region and app client id, which Cognito mode needs.
    pub fn cognito_client(&self) -> Result<(&str, &str)> {
        match (&self.cognito_region, &self.cognito_client_id) {
            (Some(region), Some(client)) => Ok((region, client)),
            _ => Err(Error::Config {
                message: "LINK_AUTH=cognito needs COGNITO_REGION and COGNITO_CLIENT_ID".into(),
            }),
        }
    }

    /// Builds the authenticator the settings name. Dev tokens are signed with
    /// `LINK_DEV_SECRET` (from `secrets`), or a random per-process secret without one.
    pub fn build(&self, secrets: &Secrets) -> Result<Auth> {
        match self.mode() {
            AuthMode::Dev => {
                let dev = dev_tokens(secrets)?;
                Ok(Auth {
                    authenticator: dev.authenticator.clone(),
                    dev: Some(dev),
                })
            }
            AuthMode::Cognito => {
                let cognito = self.cognito()?;
                let authenticator: Arc<dyn Authenticator> = match self.token_cache {
                    0 => Arc::new(cognito),
                    capacity => Arc::new(CachedAuthenticator::new(cognito, capacity)),
                };
                Ok(Auth {
                    authenticator,
                    dev: None,
                })
            }
        }
    }

    fn cognito(&self) -> Result<CognitoAuthenticator> {
        let require = |value: &Option<String>, name: &str| {
            value.clone().ok_or_else(|| Error::Config {
                message: format!("LINK_AUTH=cognito needs {name}"),
            })
        };
        let region = require(&self.cognito_region, "COGNITO_REGION")?;
        let pool = require(&self.cognito_user_pool_id, "COGNITO_USER_POOL_ID")?;
        let client = require(&self.cognito_client_id, "COGNITO_CLIENT_ID")?;
        let mut builder = CognitoAuthenticator::builder(region, pool)
            .client_id(client)
            .token_use(self.cognito_token_use.into());
        if let Some(url) = &self.cognito_jwks_url {
            builder = builder.jwks_url(url.clone());
        }
        Ok(builder.build()?)
    }
}

fn dev_tokens(secrets: &Secrets) -> Result<DevTokens> {
    let authenticator = match &secrets.dev_secret {
        Some(secret) => DevAuthenticator::new(secret.expose_secret().as_bytes())?,
        None => {
            tracing::info!(
                "LINK_DEV_SECRET is unset: dev tokens are signed with a random per-process secret"
            );
            DevAuthenticator::random()
        }
    };
    Ok(DevTokens {
        authenticator: Arc::new(authenticator.with_lifetime(DEFAULT_DEV_LIFETIME)),
        lifetime: DEFAULT_DEV_LIFETIME,
    })
}
