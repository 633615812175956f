//! # link-openai
//!
//! [Link](link_core) adapters for OpenAI's Chat Completions API and the servers that speak
//! it (Ollama, vLLM, llama.cpp server, LM Studio):
//!
//! - [`OpenAiPersonaExtractor`], a [`PersonaExtractor`](link_core::PersonaExtractor) using
//!   structured outputs (`response_format` `json_schema`, `strict: true`) with a schema
//!   derived from [`Persona`](link_core::Persona) by schemars and cleaned for strict mode by
//!   [`schema::strict_schema_for`], which works for any `JsonSchema` type;
//! - [`OpenAiChatModel`], a [`ChatModel`](link_core::ChatModel) answering whole or streamed
//!   (server-sent events, with the final usage chunk);
//! - [`OpenAiModerator`], a [`Moderator`](link_core::Moderator) over OpenAI's moderation
//!   endpoint (`POST /moderations`, `omni-moderation-latest`);
//! - [`OpenAiConfig`], read from `OPENAI_API_KEY` / `OPENAI_BASE_URL` or built by hand, the
//!   key held as a secret that no `Debug` output shows;
//! - [`RetryPolicy`], retries as the official SDKs do them (408/409/429/5xx and connection
//!   failures, `retry-after(-ms)`, exponential backoff with jitter, 2 retries by default).
//!
//! The base URL includes the API version (`https://api.openai.com/v1`, or
//! `http://localhost:11434/v1` for Ollama), as `OPENAI_BASE_URL` does in the official SDKs.
//!
//! ## Errors
//!
//! Every failure is a [`link_core::Error`]:
//! - HTTP failures are [`Error::Provider`](link_core::Error::Provider) with
//!   `provider: "openai"` ([`PROVIDER`]), the status, `error.message`, whether a retry may help,
//!   the requested wait and the raw body, with the API key and any `sk-...` token redacted.
//!   An upstream 401/403 is `Provider` too, not `Unauthorized`: a bad upstream key is a
//!   misconfiguration of the deployment, not the end user's failure to authenticate. An
//!   upstream 429 is `Provider` (retryable unless `insufficient_quota`), since
//!   `RateLimited` is reserved for Link's own per-user limit.
//! - No answer in time: [`Error::Timeout`](link_core::Error::Timeout); connection failures:
//!   `Provider` with no status, retryable.
//! - A stream that fails after it started yields one `Err` item and ends: an `error` object,
//!   a dropped connection, a body without `data: [DONE]`, a silence over the idle timeout.
//! - Extraction adds `Refusal`, `Truncated` (`finish_reason: length`), `ContentFiltered`,
//!   `MalformedOutput` and `InvalidPersona`; see [`OpenAiPersonaExtractor`].
//!
//! ```no_run
//! use link_core::{ChatMessage, ChatModel, ChatRequest, GenerationParams, PersonaExtractor, PromptBuilder};
//! use link_openai::{OpenAiChatModel, OpenAiConfig, OpenAiPersonaExtractor};
//!
//! # async fn demo() -> link_core::Result<()> {
//! let config = OpenAiConfig::from_env()?; // OPENAI_API_KEY or OPENAI_BASE_URL
//! let extractor = OpenAiPersonaExtractor::new(config.clone())?;
//! let ada = extractor.extract("Ada Lovelace").await?;
//!
//! let model = OpenAiChatModel::new(config.with_model("gpt-4o-mini"));
//! let mut request = PromptBuilder::default().build(&ada, &[]);
//! request.messages.push(ChatMessage::user("What are you working on?"));
//! let reply = model.complete(request).await?;
//! tracing::info!(reply = %reply.text, "Ada answered");
//! # Ok(()) }
//! ```

mod chat;
mod config;
mod error;
mod extract;
mod models;
mod moderation;
mod retry;
pub mod schema;
mod sse;
mod token_memo;
mod transport;
mod wire;

pub use chat::OpenAiChatModel;
pub use config::{
    DEFAULT_BASE_URL, DEFAULT_MODEL, MaxTokensParam, OpenAiConfig, OpenAiConfigBuilder,
};
pub use error::PROVIDER;
pub use extract::{DEFAULT_EXTRACTION_MAX_TOKENS, OpenAiPersonaExtractor, SCHEMA_NAME};
pub use moderation::{DEFAULT_MODERATION_MODEL, OpenAiModerator};
pub use retry::RetryPolicy;
