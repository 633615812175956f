//! From configuration to a running server.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use link::{AuthMode, ExposeSecret, Result, Secrets};

use crate::HttpOptions;
use crate::accounts::{Accounts, ClientSecret};
use crate::config::{Admin, Command, Config};
use crate::serve::ServeOptions;
use crate::state::AppState;
use crate::telemetry::Telemetry;
use crate::timeouts::TimeLimits;

/// Builds the engine and everything around it from `config` and the secrets in the
/// environment, its ports observed by `telemetry` when that is on.
pub async fn build_state(config: &Config, telemetry: &Telemetry) -> Result<AppState> {
    let secrets = Secrets::from_env();
    let link = telemetry.engine(&config.engine, &secrets).await?;
    let auth = config.auth.build(&secrets)?;
    let accounts = match config.auth.mode() {
        AuthMode::Cognito => Some(accounts(config, &secrets).await?),
        AuthMode::Dev => None,
    };
    let per_ip = link::per_minute(config.account_rate_limit_per_minute)?;
    // Long-lived API keys are accepted besides the configured tokens (see routes::keys).
    let authenticator = Arc::new(link::auth::ApiKeyAuthenticator::new(
        auth.authenticator,
        link.api_keys().clone(),
    ));
    Ok(AppState {
        link,
        auth: telemetry.authenticator(authenticator),
        dev: auth.dev,
        accounts,
        per_ip: Some(telemetry.per_ip(Arc::new(per_ip))),
    })
}

/// The Cognito account flows, with the app client's secret when it has one.
async fn accounts(config: &Config, secrets: &Secrets) -> Result<std::sync::Arc<Accounts>> {
    let (region, client) = config.auth.cognito_client()?;
    let secret = (secrets.cognito_client_secret.as_ref())
        .map(|secret| ClientSecret::new(secret.expose_secret()));
    Ok(Accounts::connect(region, client, secret).await)
}

/// Says loudly, once, that anyone who reaches the server may mint a token for any user.
fn warn_about_dev_auth(config: &Config) {
    if config.auth.auth == Some(AuthMode::Dev) {
        tracing::warn!(
            "LINK_AUTH=dev: DEV AUTH IS ON. Anyone who can reach this server can mint a token \
             for any user at POST /v1/auth/token; never expose it to untrusted networks"
        );
    }
}

/// Says once that each instance counts the rate limit on its own, in Lambda mode.
fn warn_about_instance_limits(config: &Config) {
    #[cfg(feature = "lambda")]
    if config.lambda && config.engine.rate_limit_store == link::RateLimitStore::Memory {
        tracing::warn!(
            "Lambda mode with LINK_RATE_LIMIT_STORE=memory: each instance counts the per-user \
             limit on its own; set LINK_RATE_LIMIT_STORE=dynamodb for one count across instances"
        );
    }
    #[cfg(not(feature = "lambda"))]
    let _ = config;
}

/// Runs `admin`: creates the DynamoDB table (idempotently) and says so on stdout.
async fn admin(admin: &Admin) -> Result<()> {
    match admin {
        Admin::CreateTable { table } => {
            let client = link::dynamodb::client_from_env().await;
            link::dynamodb::DynamoStore::create_table(&client, table).await?;
            tracing::info!(table, "the DynamoDB table is ready");
            // The command's answer, for the operator (the log may go elsewhere).
            let mut stdout = std::io::stdout().lock();
            writeln!(
                stdout,
                "DynamoDB table {table} is ready (on-demand, index `updated`, TTL on `expires`)"
            )
            .map_err(|e| link::Error::storage(format!("cannot write to stdout: {e}")))?;
            Ok(())
        }
    }
}

/// Runs the server (or the Lambda handler) until shut down, observed by `telemetry`, or the
/// `admin` command the configuration names.
pub async fn run(
    config: Config,
    telemetry: &Telemetry,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    if let Some(Command::Admin(command)) = &config.command {
        return Ok(admin(command).await?);
    }
    config.check()?;
    warn_about_dev_auth(&config);
    warn_about_instance_limits(&config);
    let state = build_state(&config, telemetry).await?;
    let options = HttpOptions {
        max_body_bytes: config.max_body_bytes,
        max_card_bytes: config.max_card_bytes,
        cors_origins: config.cors_origins.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        time_limits: TimeLimits {
            request: Duration::from_secs(config.request_timeout_secs),
            stream: Duration::from_secs(config.max_stream_secs),
        },
        max_model_calls_per_user: usize::try_from(config.max_model_calls_per_user)
            .unwrap_or(usize::MAX),
        metrics: telemetry.metrics().cloned(),
        sampler: telemetry.request_sampler(),
        openai_mode: config.openai_mode,
    };
    let app = crate::router(state, &options);
    #[cfg(feature = "lambda")]
    if config.lambda {
        tracing::info!(settings = %config.summary(), "link-server serving AWS Lambda invocations");
        return crate::lambda::run(app)
            .await
            .map_err(|e| e.to_string().into());
    }
    if let (Some(address), Some(metrics)) = (config.telemetry.metrics_listen, telemetry.metrics()) {
        crate::metrics::serve(address, metrics.clone()).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    let defaults = if config.is_embedded_default() {
        " (embedded defaults)"
    } else {
        ""
    };
    tracing::info!(
        settings = %config.summary(),
        "link-server listening on http://{address}{defaults}"
    );
    let serving = ServeOptions {
        grace: Duration::from_secs(config.shutdown_grace_secs),
        header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
        max_connections: usize::try_from(config.max_connections).unwrap_or(usize::MAX),
    };
    crate::serve::serve(listener, app, &serving).await?;
    tracing::info!("link-server stopped");
    Ok(())
}
