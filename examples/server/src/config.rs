//! Configuration from flags, the environment and an optional `.env` file.
//!
//! Every setting has an environment name (part of the interface) and a flag mirroring it.
//! Secrets (`OPENAI_API_KEY`, `LINK_DEV_SECRET`, `COGNITO_CLIENT_SECRET`, AWS credentials) are read from the
//! environment only, never from flags, so they stay out of process listings.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use link_core::ContentPolicy;

/// Which implementation plays a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    /// The in-process GGUF model (link-local).
    Local,
    /// OpenAI or an OpenAI-compatible server (link-openai).
    Openai,
    /// Amazon Bedrock (link-bedrock).
    Bedrock,
}

/// How bearer tokens are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Locally minted HMAC tokens (`POST /v1/auth/token`).
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

/// Audit content policy, as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditContent {
    /// Prompt and response text in full.
    Full,
    /// Their SHA-256 hashes.
    Hash,
    /// Neither.
    None,
}

impl From<AuditContent> for ContentPolicy {
    fn from(value: AuditContent) -> Self {
        match value {
            AuditContent::Full => ContentPolicy::Full,
            AuditContent::Hash => ContentPolicy::Hash,
            AuditContent::None => ContentPolicy::None,
        }
    }
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

    /// SQLite database file (default: link.sqlite in the platform data directory).
    #[arg(long, env = "LINK_DATABASE")]
    pub database: Option<PathBuf>,

    /// Who extracts personas.
    #[arg(long, env = "LINK_PERSONA_PROVIDER", value_enum, default_value_t = Provider::Local)]
    pub persona_provider: Provider,

    /// Who plays them.
    #[arg(long, env = "LINK_CHAT_PROVIDER", value_enum, default_value_t = Provider::Local)]
    pub chat_provider: Provider,

    /// GGUF model file for the local provider (default: the file scripts/fetch-model.sh places).
    #[arg(long, env = "LINK_MODEL_PATH")]
    pub model_path: Option<PathBuf>,

    /// CPU threads for the local model (default: all cores). Set fewer when other heavy work
    /// shares the machine: llama.cpp's threads spin-wait and slow down badly when starved.
    #[arg(long, env = "LINK_LOCAL_THREADS")]
    pub local_threads: Option<usize>,

    /// OpenAI model.
    #[arg(long, env = "LINK_OPENAI_MODEL", default_value = "gpt-4o-mini")]
    pub openai_model: String,

    /// Bedrock model or inference profile id.
    #[arg(
        long,
        env = "LINK_BEDROCK_MODEL",
        default_value = "amazon.nova-micro-v1:0"
    )]
    pub bedrock_model: String,

    /// Bedrock guardrail id (guardrails are off without one).
    #[arg(long, env = "LINK_GUARDRAIL_ID")]
    pub guardrail_id: Option<String>,

    /// Bedrock guardrail version.
    #[arg(long, env = "LINK_GUARDRAIL_VERSION", default_value = "DRAFT")]
    pub guardrail_version: String,

    /// How bearer tokens are verified.
    #[arg(long, env = "LINK_AUTH", value_enum, default_value_t = AuthMode::Dev)]
    pub auth: AuthMode,

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

    /// Account requests (sign-up, confirm, sign-in, refresh) per client IP per minute.
    #[arg(long, env = "LINK_ACCOUNT_RATE_LIMIT_PER_MINUTE", default_value_t = 10)]
    pub account_rate_limit_per_minute: u32,

    /// Which Cognito tokens are accepted.
    #[arg(long, env = "COGNITO_TOKEN_USE", value_enum, default_value_t = TokenUseArg::Any)]
    pub cognito_token_use: TokenUseArg,

    /// Requests per user per minute.
    #[arg(long, env = "LINK_RATE_LIMIT_PER_MINUTE", default_value_t = 25)]
    pub rate_limit_per_minute: u32,

    /// What audit records keep of prompt and response text.
    #[arg(long, env = "LINK_AUDIT_CONTENT", value_enum, default_value_t = AuditContent::Full)]
    pub audit_content: AuditContent,

    /// Largest request body, in bytes.
    #[arg(long, env = "LINK_MAX_BODY_BYTES", default_value_t = 65536)]
    pub max_body_bytes: usize,

    /// How many stored messages are read to build a prompt, before token trimming.
    #[arg(long, env = "LINK_HISTORY_WINDOW", default_value_t = 200)]
    pub history_window: usize,

    /// Origins allowed by CORS, comma-separated (none by default).
    #[arg(long, env = "LINK_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Seconds in-flight requests and streams get to finish after a shutdown signal.
    #[arg(long, env = "LINK_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Serve AWS Lambda invocations (API Gateway REST or HTTP API) instead of a socket.
    #[cfg(feature = "lambda")]
    #[arg(long, env = "LINK_LAMBDA")]
    pub lambda: bool,
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

    /// The database path: the configured one, or link.sqlite in the platform data directory.
    pub fn database_path(&self) -> PathBuf {
        self.database.clone().unwrap_or_else(default_database_path)
    }

    /// Whether nothing was configured away from the embedded defaults.
    pub fn is_embedded_default(&self) -> bool {
        self.persona_provider == Provider::Local
            && self.chat_provider == Provider::Local
            && self.auth == AuthMode::Dev
    }
}

/// `$XDG_DATA_HOME/link/link.sqlite`, else `~/.local/share/link/link.sqlite`, else
/// `./link.sqlite`.
fn default_database_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")));
    match base {
        Some(base) => base.join("link").join("link.sqlite"),
        None => PathBuf::from("link.sqlite"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_embedded_setup() {
        let config = Config::try_parse_from(["link-server"]).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert!(config.is_embedded_default());
        assert_eq!(config.rate_limit_per_minute, 25);
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
        assert_eq!(config.chat_provider, Provider::Bedrock);
        assert_eq!(
            ContentPolicy::from(config.audit_content),
            ContentPolicy::Hash
        );
        assert_eq!(config.cors_origins.len(), 2);
        assert!(Config::try_parse_from(["link-server", "--auth", "magic"]).is_err());
    }
}
