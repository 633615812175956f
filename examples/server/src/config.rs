//! `link-server`'s settings: the engine's and the authenticator's (from the `link` crate),
//! plus what only an HTTP server has (listen address, body limit, CORS, shutdown grace,
//! Lambda mode, the account routes' per-IP limit). Flags mirror the environment names;
//! secrets come from the environment only (`link::Secrets`).

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};
use link::StoreBackend;

use crate::routes::openai_compat::Mode;

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line (for CloudWatch and other collectors).
    Json,
}

/// What `link-server` does instead of serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Administration of what the server uses.
    #[command(subcommand)]
    Admin(Admin),
}

/// `link-server admin ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum Admin {
    /// Creates the DynamoDB table of LINK_STORE=dynamodb and LINK_RATE_LIMIT_STORE=dynamodb
    /// (on-demand billing, the `updated` index, time to live on `expires`) and waits until it
    /// is active. Idempotent: an existing table is left as it is. Region, credentials and
    /// AWS_ENDPOINT_URL_DYNAMODB come from the standard AWS chain.
    CreateTable {
        /// The table's name.
        #[arg(long, env = "LINK_DYNAMODB_TABLE")]
        table: String,
    },
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

    /// Proxies (CIDRs, comma-separated) whose `X-Forwarded-For` names the client, for the
    /// per-IP limits (none by default: the socket peer is the client).
    #[arg(long, env = "LINK_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Largest request body, in bytes.
    #[arg(long, env = "LINK_MAX_BODY_BYTES", default_value_t = 65536)]
    pub max_body_bytes: usize,

    /// Largest character card import (JSON, PNG or CharX), in bytes: PNG cards are commonly
    /// 200 KB to 2 MB.
    #[arg(long, env = "LINK_MAX_CARD_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_card_bytes: usize,

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

    /// Most model calls (persona extractions, replies, streams) one user may have running at
    /// once; more are refused with 429 `quota_exceeded` until one ends (0: no cap).
    #[arg(long, env = "LINK_MAX_MODEL_CALLS_PER_USER", default_value_t = 2)]
    pub max_model_calls_per_user: u32,

    /// How an OpenAI-compatible chat completion (`POST /v1/chat/completions`) uses the
    /// conversation when neither its model name (`link/<id>:stateless`) nor its `X-Link-Mode`
    /// header says: `stored` (Link's history is the context and the turn is stored) or
    /// `stateless` (the client's messages are the history; nothing is stored).
    #[arg(long, env = "LINK_OPENAI_MODE", value_enum, default_value_t = Mode::Stored)]
    pub openai_mode: Mode,

    /// Serve AWS Lambda invocations (API Gateway REST or HTTP API) instead of a socket.
    #[cfg(feature = "lambda")]
    #[arg(long, env = "LINK_LAMBDA")]
    pub lambda: bool,

    /// Accept a store of each instance's own (SQLite) in Lambda mode, where instances come
    /// and go and each would see only its own conversations: without it Lambda mode needs
    /// LINK_STORE=dynamodb.
    #[arg(long, env = "LINK_ALLOW_INSTANCE_STORE", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_instance_store: bool,

    /// Log line format (the filter is `RUST_LOG`).
    #[arg(long, env = "LINK_LOG_FORMAT", value_enum, ignore_case = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// The engine: providers, models, database, limits, audit.
    #[command(flatten, next_help_heading = "Engine")]
    pub engine: link::Config,

    /// How bearer tokens are verified.
    #[command(flatten, next_help_heading = "Authentication")]
    pub auth: link::AuthConfig,

    /// Something to do instead of serving (`admin create-table`).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Metrics (traces are configured by the standard `OTEL_*` variables).
    #[command(flatten, next_help_heading = "Telemetry")]
    pub telemetry: crate::telemetry::TelemetryConfig,
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
        self.engine.is_local_only() && self.auth.mode() == link::AuthMode::Dev
    }

    /// Refuses settings that would be unsafe or cannot work, before anything starts: dev
    /// auth nobody asked for where strangers could reach it (a listen address that is not
    /// loopback, or Lambda), and a CORS wildcard (which would let any site call the API).
    pub fn check(&self) -> link::Result<()> {
        let refuse = |message: String| Err(link::Error::Config { message });
        if self.cors_origins.iter().any(|origin| origin.trim() == "*") {
            return refuse(
                "LINK_CORS_ORIGINS=* is not supported: list the allowed origins, \
                 comma-separated (e.g. https://app.example,https://admin.example)"
                    .into(),
            );
        }
        if self.auth.auth.is_none() && !self.is_private() {
            let place = if self.is_lambda() {
                "in Lambda mode".to_owned()
            } else {
                format!("on {}, which is not a loopback address", self.listen)
            };
            return refuse(format!(
                "LINK_AUTH is unset, and dev auth (anyone may mint a token for any user) is \
                 refused {place}: set LINK_AUTH=cognito, or LINK_AUTH=dev to accept dev auth"
            ));
        }
        let engine = &self.engine;
        if engine.store_backend == StoreBackend::Dynamodb
            || engine.rate_limit_store == link::RateLimitStore::Dynamodb
        {
            engine.dynamodb_table()?;
        }
        if self.is_lambda()
            && self.engine.store_backend == StoreBackend::Sqlite
            && !self.allow_instance_store
        {
            return refuse(
                "Lambda mode with LINK_STORE=sqlite keeps conversations on each instance: one \
                 created through one instance is not found on the next and is lost when the \
                 instance is recycled. Set LINK_STORE=dynamodb with LINK_DYNAMODB_TABLE (and \
                 LINK_RATE_LIMIT_STORE=dynamodb for one rate limit across instances), or \
                 LINK_ALLOW_INSTANCE_STORE=1 if a per-instance store is intended"
                    .into(),
            );
        }
        Ok(())
    }

    /// Whether only this machine can reach the server.
    fn is_private(&self) -> bool {
        !self.is_lambda() && self.listen.ip().is_loopback()
    }

    /// Whether the server serves Lambda invocations instead of a socket.
    #[cfg(feature = "lambda")]
    fn is_lambda(&self) -> bool {
        self.lambda
    }

    /// Without the `lambda` feature there is only the socket.
    #[cfg(not(feature = "lambda"))]
    fn is_lambda(&self) -> bool {
        false
    }

    /// One line saying what runs, for the log (no secrets).
    pub fn summary(&self) -> String {
        let auth = format!("{:?}", self.auth.mode()).to_lowercase();
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
        assert_eq!(config.max_model_calls_per_user, 2);
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

    fn refusal(args: &[&str]) -> Option<String> {
        let config = Config::try_parse_from(["link-server"].iter().chain(args)).unwrap();
        match config.check() {
            Ok(()) => None,
            Err(link::Error::Config { message }) => Some(message),
            Err(other) => panic!("not a configuration error: {other}"),
        }
    }

    #[test]
    fn implicit_dev_auth_is_refused_where_strangers_reach_it() {
        assert_eq!(refusal(&[]), None, "the embedded default must start");
        assert_eq!(refusal(&["--listen", "[::1]:9000"]), None);
        let exposed = refusal(&["--listen", "0.0.0.0:8080"]).unwrap();
        assert!(exposed.contains("LINK_AUTH"), "{exposed}");
        assert!(exposed.contains("0.0.0.0:8080"), "{exposed}");
        assert_eq!(
            refusal(&["--listen", "0.0.0.0:8080", "--auth", "dev"]),
            None
        );
    }

    #[cfg(feature = "lambda")]
    #[test]
    fn implicit_dev_auth_is_refused_on_lambda() {
        let lambda = refusal(&["--lambda"]).unwrap();
        assert!(
            lambda.contains("Lambda") && lambda.contains("LINK_AUTH"),
            "{lambda}"
        );
        assert_eq!(
            refusal(&["--lambda", "--auth", "dev", "--allow-instance-store"]),
            None
        );
    }

    #[cfg(feature = "lambda")]
    #[test]
    fn lambda_refuses_a_per_instance_store_unless_told() {
        let sqlite = refusal(&["--lambda", "--auth", "dev"]).unwrap();
        for named in [
            "LINK_STORE=dynamodb",
            "LINK_DYNAMODB_TABLE",
            "LINK_ALLOW_INSTANCE_STORE=1",
        ] {
            assert!(sqlite.contains(named), "{sqlite}");
        }
        let args = ["--lambda", "--auth", "dev", "--store", "dynamodb"];
        let untabled = refusal(&args).unwrap();
        assert!(untabled.contains("needs LINK_DYNAMODB_TABLE"), "{untabled}");
        let args = [&args[..], &["--dynamodb-table", "chats"]].concat();
        assert_eq!(refusal(&args), None);
        assert_eq!(refusal(&["--auth", "dev", "--listen", "0.0.0.0:1"]), None);
    }

    #[test]
    fn admin_create_table_is_a_subcommand_with_the_table_setting() {
        let config =
            Config::try_parse_from(["link-server", "admin", "create-table", "--table", "chats"])
                .unwrap();
        assert!(matches!(
            config.command,
            Some(Command::Admin(Admin::CreateTable { table })) if table == "chats"
        ));
        assert!(
            Config::try_parse_from(["link-server"])
                .unwrap()
                .command
                .is_none()
        );
    }

    #[test]
    fn a_cors_wildcard_is_refused() {
        let wildcard = refusal(&["--cors-origins", "https://a.example, *"]).unwrap();
        assert!(wildcard.contains("list the allowed origins"), "{wildcard}");
        assert_eq!(refusal(&["--cors-origins", "https://a.example"]), None);
    }
}
