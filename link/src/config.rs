//! The engine's settings: every one has an environment name (part of the interface) and a
//! flag that mirrors it, read here and nowhere else. Secrets are not settings: they come from
//! the environment only, through [`Secrets`](crate::Secrets).

use std::path::PathBuf;

use clap::{Args, Parser, ValueEnum};
use link_core::{ContentPolicy, Error, Result};

/// Which implementation plays a model port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    /// The in-process GGUF model (feature `local`).
    Local,
    /// OpenAI or an OpenAI-compatible server (feature `openai`).
    Openai,
    /// Amazon Bedrock (feature `bedrock`).
    Bedrock,
}

impl Provider {
    /// The lower-case name used in settings and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::Openai => "openai",
            Provider::Bedrock => "bedrock",
        }
    }
}

/// Where conversations are kept (see [`Config::store_backend`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreBackend {
    /// One SQLite file (feature `sqlite`): one process, or each instance its own.
    Sqlite,
    /// One DynamoDB table shared by every instance (feature `dynamodb`).
    Dynamodb,
}

impl StoreBackend {
    /// The lower-case name used in settings and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreBackend::Sqlite => "sqlite",
            StoreBackend::Dynamodb => "dynamodb",
        }
    }
}

/// Where the per-user rate limit and daily token quota are counted (see
/// [`Config::rate_limit_store`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RateLimitStore {
    /// In this process: each instance counts on its own.
    Memory,
    /// In the DynamoDB table of `LINK_DYNAMODB_TABLE`: one count across every instance
    /// (feature `dynamodb`).
    Dynamodb,
}

impl RateLimitStore {
    /// The lower-case name used in settings and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            RateLimitStore::Memory => "memory",
            RateLimitStore::Dynamodb => "dynamodb",
        }
    }
}

/// Who moderates what users send and what the models write (see [`Config::moderation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModerationProvider {
    /// Nothing is moderated by Link (a provider may still filter on its own).
    None,
    /// OpenAI's moderation endpoint (feature `openai`; OpenAI's own API, not a compatible
    /// server, which has no such endpoint).
    Openai,
    /// The Bedrock guardrail of `LINK_GUARDRAIL_ID` through ApplyGuardrail (feature
    /// `bedrock`).
    Bedrock,
}

impl ModerationProvider {
    /// The lower-case name used in settings and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ModerationProvider::None => "none",
            ModerationProvider::Openai => "openai",
            ModerationProvider::Bedrock => "bedrock",
        }
    }
}

/// What audit records keep of prompt and response text.
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

/// Everything that shapes the engine: providers and their models, the database, the rate
/// limit, the audit policy and the history window. Parsed from flags and the environment by
/// the binaries (it is a `clap::Args`), or from the environment alone by
/// [`Config::from_env`]; [`Config::build`](crate::Config::build) turns it into an engine.
///
/// ```
/// let config = link::Config::from_lookup(|name| match name {
///     "LINK_CHAT_PROVIDER" => Some("openai".into()),
///     _ => None,
/// })?;
/// assert_eq!(config.chat_provider, link::Provider::Openai);
/// assert_eq!(config.rate_limit_per_minute, 25);
/// assert_eq!(config.daily_tokens, None);
/// # Ok::<(), link::Error>(())
/// ```
#[derive(Debug, Clone, Args)]
#[group(id = "engine")]
pub struct Config {
    /// Where conversations are kept: sqlite (the file of LINK_DATABASE) or dynamodb (the table
    /// of LINK_DYNAMODB_TABLE, shared by every instance; region, credentials and
    /// AWS_ENDPOINT_URL_DYNAMODB from the standard AWS chain).
    #[arg(long = "store", env = "LINK_STORE", value_enum, default_value_t = StoreBackend::Sqlite)]
    pub store_backend: StoreBackend,

    /// SQLite database file (default: link.sqlite in the platform data directory).
    #[arg(long, env = "LINK_DATABASE")]
    pub database: Option<PathBuf>,

    /// The DynamoDB table of LINK_STORE=dynamodb and LINK_RATE_LIMIT_STORE=dynamodb (make it
    /// with `link-server admin create-table`).
    #[arg(long, env = "LINK_DYNAMODB_TABLE")]
    pub dynamodb_table: Option<String>,

    /// Most DynamoDB store operations one process runs at once (LINK_STORE=dynamodb); the
    /// others wait their turn, so a burst of requests does not open a connection each.
    #[arg(long, env = "LINK_DYNAMODB_MAX_CONCURRENCY", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub dynamodb_max_concurrency: u32,

    /// Where the per-user rate limit and daily token quota are counted: memory (each process
    /// its own) or dynamodb (the table of LINK_DYNAMODB_TABLE, one count across instances).
    #[arg(long, env = "LINK_RATE_LIMIT_STORE", value_enum, default_value_t = RateLimitStore::Memory)]
    pub rate_limit_store: RateLimitStore,

    /// How long a request waits for the DynamoDB rate limiter, in milliseconds, before it is
    /// let through unlimited (with a warning): an outage of the limiter does not stop the
    /// service.
    #[arg(long, env = "LINK_RATE_LIMIT_WAIT_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub rate_limit_wait_ms: u64,

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

    /// The chat model's context window in tokens (prompt plus reply). The engine fits every
    /// prompt to it. For OpenAI and Bedrock it replaces the known models' table (unknown
    /// models, e.g. an OpenAI-compatible server's, are taken as 8192); for the local model it
    /// sets llama.cpp's context size (default 2048), for persona extraction too. At least 1024:
    /// the reply keeps 512 of it.
    #[arg(long, env = "LINK_CONTEXT_WINDOW", value_parser = clap::value_parser!(u32).range(1024..))]
    pub context_window: Option<u32>,

    /// A model of the chat provider (OpenAI or Bedrock) that writes conversations' rolling
    /// memory instead of the chat model, e.g. a cheaper one (default: the chat model itself).
    /// Its context window is its own, from the known models' table.
    #[arg(long, env = "LINK_SUMMARY_MODEL")]
    pub summary_model: Option<String>,

    /// OpenAI model.
    #[arg(long, env = "LINK_OPENAI_MODEL", default_value = "gpt-4o-mini")]
    pub openai_model: String,

    /// OpenAI API base, including its version path (default: https://api.openai.com/v1); any
    /// OpenAI-compatible server (Ollama, vLLM, llama.cpp server, LM Studio) works.
    #[arg(long, env = "OPENAI_BASE_URL")]
    pub openai_base_url: Option<String>,

    /// Sent as OpenAI's `OpenAI-Organization` header.
    #[arg(long, env = "OPENAI_ORG_ID")]
    pub openai_organization: Option<String>,

    /// Sent as OpenAI's `OpenAI-Project` header.
    #[arg(long, env = "OPENAI_PROJECT_ID")]
    pub openai_project: Option<String>,

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

    /// Who moderates user messages, replies (streamed ones segment by segment), extracted
    /// personas and greetings: none, openai or bedrock. Default: openai when the chat
    /// provider is OpenAI's own API; bedrock when the chat provider is Bedrock with a
    /// guardrail (its Converse guardrail already checks messages and replies, so the
    /// moderator checks only personas and greetings); else none.
    #[arg(long, env = "LINK_MODERATION", value_enum)]
    pub moderation: Option<ModerationProvider>,

    /// Requests per user per minute; a model call counts as several (a reply 2, a persona
    /// extraction 4: see `AuditAction::cost`).
    #[arg(long, env = "LINK_RATE_LIMIT_PER_MINUTE", default_value_t = 25)]
    pub rate_limit_per_minute: u32,

    /// Model tokens per user per UTC day, as the models report them (no quota when unset).
    /// Counted where LINK_RATE_LIMIT_STORE says: in memory each replica keeps its own count.
    #[arg(long, env = "LINK_DAILY_TOKENS", value_parser = clap::value_parser!(u64).range(1..))]
    pub daily_tokens: Option<u64>,

    /// What audit records keep of prompt and response text.
    #[arg(long, env = "LINK_AUDIT_CONTENT", value_enum, default_value_t = AuditContent::Full)]
    pub audit_content: AuditContent,

    /// How many stored messages are read to build a prompt, before token trimming.
    #[arg(long, env = "LINK_HISTORY_WINDOW", default_value_t = 200)]
    pub history_window: usize,

    /// Most conversations a user may keep; creating or forking one more is refused
    /// (403 `forbidden`). 0 = no cap.
    #[arg(long, env = "LINK_MAX_CONVERSATIONS_PER_USER", default_value_t = 1000)]
    pub max_conversations_per_user: usize,

    /// Most messages one conversation may hold; a turn that would add more is refused
    /// (403 `forbidden`). 0 = no cap.
    #[arg(
        long,
        env = "LINK_MAX_MESSAGES_PER_CONVERSATION",
        default_value_t = 10_000
    )]
    pub max_messages_per_conversation: usize,

    /// Most bytes of message text (every version counted) a user may keep; a write once the
    /// cap is reached is refused (403 `forbidden`). 0 = no cap.
    #[arg(
        long,
        env = "LINK_MAX_STORED_BYTES_PER_USER",
        default_value_t = 50_000_000
    )]
    pub max_stored_bytes_per_user: u64,
}

/// Parses an `Args` group from the environment alone (no flags).
#[derive(Debug, Parser)]
#[command(name = "link", no_binary_name = true)]
pub(crate) struct FromEnv<T: Args> {
    #[command(flatten)]
    pub(crate) inner: T,
}

impl<T: Args> FromEnv<T> {
    /// Parses `T` from the process environment.
    pub(crate) fn parse_env() -> Result<T> {
        FromEnv::<T>::try_parse_from(std::iter::empty::<String>())
            .map(|parsed| parsed.inner)
            .map_err(|e| Error::Config {
                message: e.to_string(),
            })
    }
}

impl Config {
    /// The settings from the environment alone (`LINK_*`, `OPENAI_BASE_URL`, ...); a value that
    /// does not parse is [`Error::Config`] naming it.
    pub fn from_env() -> Result<Self> {
        FromEnv::<Self>::parse_env()
    }

    /// The settings from any lookup of environment names (tests, other configuration
    /// sources); unset names take their defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let args = lookup_args::<Self>(lookup);
        FromEnv::<Self>::try_parse_from(args)
            .map(|parsed| parsed.inner)
            .map_err(|e| Error::Config {
                message: e.to_string(),
            })
    }

    /// The database path: the configured one, or link.sqlite in the platform data directory.
    pub fn database_path(&self) -> PathBuf {
        self.database.clone().unwrap_or_else(default_database_path)
    }

    /// The DynamoDB table, for the settings that need one: [`Error::Config`] naming
    /// `LINK_DYNAMODB_TABLE` and what asked for it when it is unset.
    ///
    /// ```
    /// let config = link::Config::from_lookup(|name| match name {
    ///     "LINK_STORE" => Some("dynamodb".into()),
    ///     _ => None,
    /// })?;
    /// let missing = config.dynamodb_table().unwrap_err().to_string();
    /// assert!(missing.contains("LINK_DYNAMODB_TABLE"), "{missing}");
    /// # Ok::<(), link::Error>(())
    /// ```
    pub fn dynamodb_table(&self) -> Result<&str> {
        if let Some(table) = self
            .dynamodb_table
            .as_deref()
            .filter(|t| !t.trim().is_empty())
        {
            return Ok(table);
        }
        let asked = if self.store_backend == StoreBackend::Dynamodb {
            "LINK_STORE=dynamodb"
        } else {
            "LINK_RATE_LIMIT_STORE=dynamodb"
        };
        Err(Error::Config {
            message: format!(
                "{asked} needs LINK_DYNAMODB_TABLE, the name of the table \
                 (make it with `link-server admin create-table --table NAME`)"
            ),
        })
    }

    /// Where conversations are kept, for the log: the SQLite file or the DynamoDB table.
    pub fn store_summary(&self) -> String {
        match self.store_backend {
            StoreBackend::Sqlite => format!("sqlite:{}", self.database_path().display()),
            StoreBackend::Dynamodb => format!(
                "dynamodb:{}",
                self.dynamodb_table.as_deref().unwrap_or("(unset)")
            ),
        }
    }

    /// Whether both model ports run the in-process model.
    pub fn is_local_only(&self) -> bool {
        self.persona_provider == Provider::Local && self.chat_provider == Provider::Local
    }

    /// The moderation in effect: `LINK_MODERATION` if set, else the default its
    /// documentation gives.
    ///
    /// ```
    /// use link::{Config, ModerationProvider};
    ///
    /// let config = Config::from_lookup(|name| match name {
    ///     "LINK_CHAT_PROVIDER" => Some("openai".into()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(config.moderation(), ModerationProvider::Openai);
    /// # Ok::<(), link::Error>(())
    /// ```
    pub fn moderation(&self) -> ModerationProvider {
        if let Some(chosen) = self.moderation {
            return chosen;
        }
        match self.chat_provider {
            Provider::Openai if self.is_openai_itself() => ModerationProvider::Openai,
            Provider::Bedrock if self.guardrail_id.is_some() => ModerationProvider::Bedrock,
            _ => ModerationProvider::None,
        }
    }

    /// Whether the chat model checks user messages and replies itself (Bedrock Converse with a
    /// guardrail), so that the moderator only checks personas and greetings.
    pub fn chat_moderates_turns(&self) -> bool {
        self.chat_provider == Provider::Bedrock && self.guardrail_id.is_some()
    }

    /// Why nothing is moderated, when nothing is and that was not chosen: one line for the
    /// startup log.
    pub fn unmoderated_note(&self) -> Option<&'static str> {
        if self.moderation.is_some() || self.moderation() != ModerationProvider::None {
            return None;
        }
        Some(match self.chat_provider {
            Provider::Local => "local chat is unmoderated unless LINK_MODERATION is set",
            Provider::Openai => {
                "chat through an OpenAI-compatible server is unmoderated unless LINK_MODERATION is set"
            }
            Provider::Bedrock => {
                "Bedrock chat without LINK_GUARDRAIL_ID is unmoderated unless LINK_MODERATION is set"
            }
        })
    }

    /// Whether the OpenAI base URL is OpenAI's own API (the only one with `/moderations`).
    fn is_openai_itself(&self) -> bool {
        (self.openai_base_url.as_deref()).is_none_or(|url| url.contains("://api.openai.com"))
    }

    /// One line saying what runs, for the log (no secrets).
    pub fn summary(&self) -> String {
        let daily = (self.daily_tokens)
            .map(|tokens| format!(" daily_tokens={tokens}"))
            .unwrap_or_default();
        format!(
            "persona={} chat={} moderation={} store={} rate_limit={}/min({}){daily} audit={}",
            self.persona_provider.as_str(),
            self.chat_provider.as_str(),
            self.moderation().as_str(),
            self.store_summary(),
            self.rate_limit_per_minute,
            self.rate_limit_store.as_str(),
            format!("{:?}", self.audit_content).to_lowercase(),
        )
    }
}

/// Turns a lookup of environment names into the flags of `T`'s arguments that have one, so
/// that a lookup is parsed exactly as the environment would be.
pub(crate) fn lookup_args<T: Args>(lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let command = T::augment_args(clap::Command::new("link"));
    let mut args = Vec::new();
    for arg in command.get_arguments() {
        let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        if let Some(value) = env.to_str().and_then(&lookup).filter(|v| !v.is_empty()) {
            args.push(format!("--{long}={value}"));
        }
    }
    args
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
