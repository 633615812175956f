//! # link
//!
//! Chat with any character, famous or invented. This is the crate an embedder `cargo add`s:
//! it re-exports the engine and its types from `link-core`, and turns configuration into a
//! running engine, with each provider behind a cargo feature:
//!
//! | feature | what it brings |
//! |---|---|
//! | `sqlite` (default) | the SQLite conversation store (`link-store`) |
//! | `openai` | OpenAI and OpenAI-compatible servers (`link-openai`) |
//! | `bedrock` | Amazon Bedrock with Guardrails (`link-bedrock`) |
//! | `local` | the in-process GGUF model through llama.cpp (`link-local`) |
//! | `dynamodb` | the DynamoDB conversation store and rate limiter (`link-dynamodb`), shared by many instances |
//!
//! Authentication and rate limiting (`link-auth`) are always there.
//!
//! ```toml
//! [dependencies]
//! link = { version = "0.1", features = ["openai"] }
//! ```
//!
//! ```no_run
//! use link::{Config, PersonaSource, Principal, RequestContext, Secrets};
//!
//! # async fn demo() -> link::Result<()> {
//! // LINK_PERSONA_PROVIDER=openai LINK_CHAT_PROVIDER=openai OPENAI_API_KEY=...
//! let engine = Config::from_env()?.build(&Secrets::from_env()).await?;
//! let ctx = RequestContext::new(Principal::new("user-sub"));
//! let source = PersonaSource::Request("Ada Lovelace".into());
//! let conversation = engine.create_conversation(&ctx, source).await?;
//! let reply = engine.send(&ctx, conversation.conversation.id, "Hello!").await?;
//! # let _ = reply;
//! # Ok(()) }
//! ```
//!
//! The pieces: [`Config`] (the engine's settings, from flags or the environment), [`AuthConfig`]
//! (how callers prove who they are), [`Secrets`] (keys, from the environment only), [`Models`]
//! (the providers the settings name). `link-server` and the `link` CLI are thin binaries over
//! these.

pub mod auth;
mod config;
mod engine;
mod providers;
mod secrets;
mod storage;
pub use storage::Stores;

pub use auth::{Auth, AuthConfig, AuthMode, DevTokens, TokenUseArg};
pub use config::{
    AuditContent, Config, ModerationProvider, Provider, RateLimitStore, StoreBackend,
};
pub use engine::per_minute;
pub use providers::Models;
pub use secrets::Secrets;

pub use link_core::*;
/// Secrets as `link` keeps them (from `secrecy`).
pub use secrecy::{ExposeSecret, SecretString};

/// Amazon Bedrock (feature `bedrock`).
#[cfg(feature = "bedrock")]
pub use link_bedrock as bedrock;
/// The DynamoDB conversation store and rate limiter (feature `dynamodb`).
#[cfg(feature = "dynamodb")]
pub use link_dynamodb as dynamodb;
/// The in-process GGUF model (feature `local`).
#[cfg(feature = "local")]
pub use link_local as local;
/// OpenAI and OpenAI-compatible servers (feature `openai`).
#[cfg(feature = "openai")]
pub use link_openai as openai;
/// The SQLite conversation store (feature `sqlite`).
#[cfg(feature = "sqlite")]
pub use link_store as sqlite;
