//! From configuration to a running server.

use std::sync::Arc;
use std::time::Duration;

use link_auth::{
    CognitoAuthenticator, CognitoTokenUse, DEFAULT_DEV_LIFETIME, DevAuthenticator,
    GovernorRateLimiter, RateLimitConfig,
};
use link_core::{
    Authenticator, ContentPolicy, EngineLimits, Error, Link, Result, TracingAuditSink,
};
use link_store::SqliteStore;

use crate::accounts::{Accounts, ClientSecret};
use crate::config::{AuthMode, Config, TokenUseArg};
use crate::state::{AppState, DevTokens};
use crate::{HttpOptions, providers};

/// Builds the engine and everything around it from `config`.
pub async fn build_state(config: &Config) -> Result<AppState> {
    let models = providers::build(config).await?;
    let database = config.database_path();
    let store = SqliteStore::open(&database).await?;
    let limiter = GovernorRateLimiter::new(RateLimitConfig {
        requests: config.rate_limit_per_minute,
        burst: config.rate_limit_per_minute,
        period: Duration::from_secs(60),
        ..RateLimitConfig::default()
    })
    .map_err(Error::from)?;
    let policy = ContentPolicy::from(config.audit_content);
    let link = Link::builder()
        .extractor(models.extractor)
        .chat_model(models.chat)
        .store(Arc::new(store))
        .rate_limiter(Arc::new(limiter))
        .audit(Arc::new(TracingAuditSink::new(policy)))
        .limits(EngineLimits {
            history_window: config.history_window,
            ..EngineLimits::default()
        })
        .build()?;
    let (auth, dev) = authenticator(config)?;
    let accounts = match config.auth {
        AuthMode::Cognito => Some(accounts(config).await?),
        AuthMode::Dev => None,
    };
    Ok(AppState {
        link,
        auth,
        dev,
        accounts,
    })
}

fn authenticator(config: &Config) -> Result<(Arc<dyn Authenticator>, Option<DevTokens>)> {
    match config.auth {
        AuthMode::Dev => {
            let authenticator = match std::env::var("LINK_DEV_SECRET") {
                Ok(secret) if !secret.is_empty() => DevAuthenticator::new(secret.as_bytes())?,
                _ => {
                    tracing::info!(
                        "LINK_DEV_SECRET is unset: dev tokens are signed with a random per-process secret"
                    );
                    DevAuthenticator::random()
                }
            };
            let authenticator = Arc::new(authenticator.with_lifetime(DEFAULT_DEV_LIFETIME));
            let dev = DevTokens {
                authenticator: authenticator.clone(),
                lifetime: DEFAULT_DEV_LIFETIME,
            };
            Ok((authenticator, Some(dev)))
        }
        AuthMode::Cognito => Ok((Arc::new(cognito(config)?), None)),
    }
}

/// The Cognito account flows; the app client secret, if any, comes from
/// `COGNITO_CLIENT_SECRET` (environment only, never logged).
async fn accounts(config: &Config) -> Result<Arc<Accounts>> {
    let (region, client) = match (&config.cognito_region, &config.cognito_client_id) {
        (Some(region), Some(client)) => (region, client),
        _ => {
            return Err(Error::Config {
                message: "LINK_AUTH=cognito needs COGNITO_REGION and COGNITO_CLIENT_ID".into(),
            });
        }
    };
    let secret = std::env::var("COGNITO_CLIENT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .map(ClientSecret::new);
    Accounts::connect(region, client, secret, config.account_rate_limit_per_minute).await
}

fn cognito(config: &Config) -> Result<CognitoAuthenticator> {
    let require = |value: &Option<String>, name: &str| {
        value.clone().ok_or_else(|| Error::Config {
            message: format!("LINK_AUTH=cognito needs {name}"),
        })
    };
    let region = require(&config.cognito_region, "COGNITO_REGION")?;
    let pool = require(&config.cognito_user_pool_id, "COGNITO_USER_POOL_ID")?;
    let client = require(&config.cognito_client_id, "COGNITO_CLIENT_ID")?;
    let token_use = match config.cognito_token_use {
        TokenUseArg::Id => CognitoTokenUse::Id,
        TokenUseArg::Access => CognitoTokenUse::Access,
        TokenUseArg::Any => CognitoTokenUse::Any,
    };
    let mut builder = CognitoAuthenticator::builder(region, pool)
        .client_id(client)
        .token_use(token_use);
    if let Some(url) = &config.cognito_jwks_url {
        builder = builder.jwks_url(url.clone());
    }
    Ok(builder.build()?)
}

/// One line saying what runs, for the log.
fn summary(config: &Config) -> String {
    let provider = |p| format!("{p:?}").to_lowercase();
    format!(
        "persona={} chat={} auth={} database={} rate_limit={}/min audit={}",
        provider(config.persona_provider),
        provider(config.chat_provider),
        format!("{:?}", config.auth).to_lowercase(),
        config.database_path().display(),
        config.rate_limit_per_minute,
        format!("{:?}", config.audit_content).to_lowercase(),
    )
}

/// Runs the server (or the Lambda handler) until shut down.
pub async fn run(config: Config) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let state = build_state(&config).await?;
    let options = HttpOptions {
        max_body_bytes: config.max_body_bytes,
        cors_origins: config.cors_origins.clone(),
    };
    let app = crate::router(state, &options);
    #[cfg(feature = "lambda")]
    if config.lambda {
        tracing::info!(settings = %summary(&config), "link-server serving AWS Lambda invocations");
        return crate::lambda::run(app)
            .await
            .map_err(|e| e.to_string().into());
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    let defaults = if config.is_embedded_default() {
        " (embedded defaults)"
    } else {
        ""
    };
    tracing::info!(
        settings = %summary(&config),
        "link-server listening on http://{address}{defaults}"
    );
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    crate::serve::serve(listener, app, grace).await?;
    tracing::info!("link-server stopped");
    Ok(())
}
