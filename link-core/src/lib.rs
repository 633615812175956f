//! # link-core
//!
//! The heart of Link, a toolkit for chatting with any character, famous or invented: the
//! domain types ([`Persona`], [`ChatRequest`], [`ChatEvent`], ...), the ports that
//! providers plug into ([`PersonaExtractor`], [`ChatModel`], [`Authenticator`],
//! [`RateLimiter`], [`AuditSink`], [`ConversationStore`], [`Moderator`]), the [`PromptBuilder`] and the
//! engine [`Link`], which runs every action the same way:
//!
//! principal -> rate limit -> validate -> route -> prompt -> model -> persist -> audit.
//!
//! This crate knows no provider SDK, HTTP client or database; adapters live in sibling crates
//! (`link-openai`, `link-bedrock`, `link-auth`, `link-local`, `link-store`), and the `link`
//! crate composes them from configuration (it is what an embedder depends on; it re-exports
//! everything here). The HTTP API's JSON shapes are in `link-wire`. With the
//! `test-util` feature, [`testing`] offers mocks of every port, a scripted chat model and the
//! conformance suites every adapter runs.
//!
//! ```
//! use std::sync::Arc;
//! use futures::StreamExt;
//! use link_core::{Link, PersonaSource, Principal, RequestContext, TurnEvent};
//! use link_core::testing::{ScriptedChatModel, ScriptedExtractor};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let link = Link::builder()
//!     .extractor(Arc::new(ScriptedExtractor::default()))
//!     .chat_model(Arc::new(ScriptedChatModel::replying(["Arr, welcome aboard!"])))
//!     .build()?;
//! let ctx = RequestContext::new(Principal::new("user-sub"));
//! let conv = link
//!     .create_conversation(&ctx, PersonaSource::Request("a grumpy pirate".into()))
//!     .await?;
//! let mut stream = link.send_stream(&ctx, conv.conversation.id, "Ahoy!").await?;
//! let mut reply = String::new();
//! while let Some(event) = stream.next().await {
//!     if let TurnEvent::Delta { text } = event? {
//!         reply.push_str(&text);
//!     }
//! }
//! assert_eq!(reply, "Arr, welcome aboard!");
//! # Ok::<(), link_core::Error>(())
//! # }).unwrap();
//! ```

mod api_key;
mod audit;
mod avatar;
pub mod card;
mod chat;
mod conversation;
pub mod conversation_memory;
mod engine;
mod error;
pub mod extraction;
mod ids;
mod limit_store;
pub mod lorebook;
mod memory;
pub mod moderation;
pub mod page;
pub mod persona;
mod ports;
mod principal;
pub mod prompt;
mod route;
pub mod splice;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod token_usage;
pub mod user_persona;

pub use api_key::{
    API_KEY_PREFIX, ApiKey, ApiKeyStore, IssuedApiKey, MAX_API_KEY_NAME_CHARS,
    MAX_API_KEYS_PER_USER, MemoryApiKeys, hash_api_key, is_api_key, validate_api_key_name,
};
pub use audit::{
    AUDIT_PREFIX, AuditAction, AuditEvent, AuditOutcome, ContentPolicy, InputDigest,
    TracingAuditSink, WriterAuditSink, render as render_audit_line,
};
pub use avatar::{Avatar, MAX_AVATAR_BYTES};
pub use card::CharacterCard;
pub use chat::{
    ChatEvent, ChatMessage, ChatRequest, ChatResponse, ChatStream, GenerationParams, Role,
    StopReason, Usage,
};
pub use conversation::{
    Conversation, ConversationPatch, ForkOrigin, MAX_ALTERNATIVES, Message, now,
};
pub use conversation_memory::ConversationMemory;
pub use engine::{
    ChatOutcome, ConversationDetail, EngineLimits, Link, LinkBuilder, MAX_INSTRUCTIONS_CHARS,
    MemorySettings, PersonaSource, Reply, RequestContext, Rewind, TurnEvent, TurnOptions,
    TurnStream,
};
pub use error::{Error, Result, exit};
pub use ids::{ConversationId, MessageId, RequestId};
pub use limit_store::LimitStore;
pub use lorebook::{LoreEntry, Lorebook};
pub use memory::MemoryStore;
pub use moderation::{Moderator, NoModeration, TextSource, Verdict};
pub use page::{Cursor, Page, PageRequest};
pub use persona::{CardFields, Persona, PersonaKind};
pub use ports::{
    AuditSink, Authenticator, ChatModel, ConversationStore, PersonaExtractor, RateDecision,
    RateLimiter, StoreUsage, TurnState, Unlimited,
};
pub use principal::{Principal, TokenUse};
pub use prompt::{ApproxTokenCounter, PromptBuilder, TokenCounter};
pub use route::{Route, route};
pub use splice::Splice;
pub use token_usage::{ConversationTokens, ConversationUsage, Month, MonthUsage, TokenTally};
pub use user_persona::UserPersona;

/// The schemars version Link's types derive with, so users derive with the same one.
pub use schemars;
