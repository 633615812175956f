//! `link-server`'s settings: the engine's and the authenticator's (from the `link` crate),
//! plus what only an HTTP server has (listen address, body limit, CORS, shutdown grace,
//! Lambda mode, the account routes' per-IP limit). Flags mirror the environment names;
//! secrets come from the environment only (`link::Secrets`).

use std::net::SocketAddr;

use clap::{Parser, ValueEnum};

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line (for CloudWatch and other collectors).
    Json,
}

/// Everything `link-server` can be told.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "link-server",
    version,
    about = "Chat with any character over HTTP."
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LINK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Account requests (sign-up, confirm, sign-in, refresh) per client IP per minute.
    #[arg(long, env = "LINK_ACCOUNT_RATE_LIMIT_PER_MINUTE", default_value_t = 10)]
    pub account_rate_limit_per_minute: u32,

    /// Largest request body, in bytes.
    #[arg(long, env = "LINK_MAX_BODY_BYTES", default_value_t = 65536)]
    pub max_body_bytes: usize,

    /// Origins allowed by CORS, comma-separated (none by default).
    #[arg(long, env = "LINK_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Seconds in-flight requests and streams get to finish after a shutdown signal.
    #[arg(long, env = "LINK_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Seconds a client has to send a request's headers; also how long an idle keep-alive
    /// connection stays open.
    #[arg(long, env = "LINK_HEADER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,

    /// Seconds a request gets until its response starts (504 `timeout` after that).
    #[arg(long, env = "LINK_REQUEST_TIMEOUT_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,

    /// Seconds a streamed (SSE) reply may last; it then ends with an `error` event `timeout`.
    #[arg(long, env = "LINK_MAX_STREAM_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_stream_secs: u64,

    /// Most connections open at once; more wait in the accept backlog until one closes.
    #[arg(long, env = "LINK_MAX_CONNECTIONS", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,

    /// Serve AWS Lambda invocations (API Gateway REST or HTTP API) instead of a socket.
    #[cfg(feature = "lambda")]
    #[arg(long, env = "LINK_LAMBDA")]
    pub lambda: bool,

    /// Log line format (the filter is `RUST_LOG`).
    #[arg(long, env = "LINK_LOG_FORMAT", value_enum, ignore_case = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// The engine: providers, models, database, limits, audit.
    #[command(flatten, next_help_heading = "Engine")]
    pub engine: link::Config,

    /// How bearer tokens are verified.
    #[command(flatten, next_help_heading = "Authentication")]
    pub auth: link::AuthConfig,
}

impl Config {
    /// Reads `.env` (if present) into the environment, then parses flags and environment.
    /// Also gives back why a `.env` that exists could not be read, to log once logging is up
    /// (a missing `.env` is normal).
    pub fn load() -> (Self, Option<String>) {
        let dotenv = dotenvy::dotenv();
        let problem = match dotenv {
            Err(error) if !error.not_found() => Some(error.to_string()),
            _ => None,
        };
        (Config::parse(), problem)
    }

    /// Whether nothing was configured away from the embedded defaults.
    pub fn is_embedded_default(&self) -> bool {
        self.engine.is_local_only() && self.auth.auth == link::AuthMode::Dev
    }

    /// One line saying what runs, for the log (no secrets).
    pub fn summary(&self) -> String {
        let auth = format!("{:?}", self.auth.auth).to_lowercase();
        format!("{} auth={auth}", self.engine.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use link::{ContentPolicy, Provider};

    #[test]
    fn defaults_are_the_embedded_setup() {
        let config = Config::try_parse_from(["link-server"]).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert!(config.is_embedded_default());
        assert_eq!(config.engine.rate_limit_per_minute, 25);
        assert_eq!(config.max_body_bytes, 65536);
        assert!(config.cors_origins.is_empty());
    }

    #[test]
    fn flags_mirror_the_environment_names() {
        let config = Config::try_parse_from([
            "link-server",
            "--chat-provider",
            "bedrock",
            "--audit-content",
            "hash",
            "--cors-origins",
            "https://a.example,https://b.example",
        ])
        .unwrap();
        assert_eq!(config.engine.chat_provider, Provider::Bedrock);
        assert_eq!(
            ContentPolicy::from(config.engine.audit_content),
            ContentPolicy::Hash
        );
        assert_eq!(config.cors_origins.len(), 2);
        assert!(Config::try_parse_from(["link-server", "--auth", "magic"]).is_err());
    }
}
