//! The six ports: what Link needs from the world, each a small dyn-compatible trait.
//!
//! Adapters live in their own crates (link-openai, link-bedrock, link-auth, link-local,
//! link-store); the engine holds them as `Arc<dyn Trait>`. With the `test-util` feature each
//! trait has a mockall mock (`MockChatModel`, ...). Every port is also implemented for
//! `Arc<T>` and `Box<T>` of an implementation (see `forward.rs`).

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;

mod forward;

use crate::{
    AuditEvent, ChatEvent, ChatRequest, ChatResponse, ChatStream, Conversation, ConversationId,
    Message, Persona, Principal, Result,
};

/// Turns a free-text request ("Sherlock Holmes", "a grumpy pirate who loves cats") into a
/// [`Persona`]. Implementations return the persona as the model produced it; the engine
/// normalises and validates it.
#[cfg_attr(feature = "test-util", mockall::automock)]
#[async_trait]
pub trait PersonaExtractor: Send + Sync + Debug + 'static {
    /// Extracts a persona.
    async fn extract(&self, request: &str) -> Result<Persona>;

    /// The model behind this extractor, for audit records.
    fn model_id(&self) -> String;
}

/// Plays a persona: answers a [`ChatRequest`] whole or as a stream.
#[cfg_attr(feature = "test-util", mockall::automock)]
#[async_trait]
pub trait ChatModel: Send + Sync + Debug + 'static {
    /// The whole reply.
    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse>;

    /// The reply as a stream of [`ChatEvent`]s, ending with [`ChatEvent::Done`].
    ///
    /// The default wraps [`complete`](Self::complete) as one delta and a done event; models
    /// that can stream should override it.
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let reply = self.complete(request).await?;
        let events = vec![
            Ok(ChatEvent::Delta { text: reply.text }),
            Ok(ChatEvent::Done {
                stop_reason: reply.stop_reason,
                usage: reply.usage,
            }),
        ];
        Ok(futures::stream::iter(events).boxed())
    }

    /// The model id, for audit records.
    fn model_id(&self) -> String;

    /// How this model wants its prompt written: [`PromptStyle::Full`] (the default) for
    /// capable models, [`PromptStyle::Compact`] for small ones. The engine builds every turn
    /// for this model in this style.
    ///
    /// [`PromptStyle::Full`]: crate::prompt::PromptStyle::Full
    /// [`PromptStyle::Compact`]: crate::prompt::PromptStyle::Compact
    fn prompt_style(&self) -> crate::prompt::PromptStyle {
        crate::prompt::PromptStyle::Full
    }
}

/// Proves who is calling from a bearer token.
#[cfg_attr(feature = "test-util", mockall::automock)]
#[async_trait]
pub trait Authenticator: Send + Sync + Debug + 'static {
    /// Verifies `token` and returns the caller. Errors never contain the token.
    async fn authenticate(&self, token: &str) -> Result<Principal>;
}

/// The answer of a [`RateLimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Go ahead.
    Allowed {
        /// Requests allowed per period.
        limit: u32,
        /// Requests left right now.
        remaining: u32,
    },
    /// Not now.
    Denied {
        /// Requests allowed per period.
        limit: u32,
        /// How long to wait, rounded up to whole seconds.
        retry_after: Duration,
    },
}

/// Decides whether a principal may make another request now. Synchronous: nothing to await.
#[cfg_attr(feature = "test-util", mockall::automock)]
pub trait RateLimiter: Send + Sync + Debug + 'static {
    /// Counts one request for `principal` and says whether it may go ahead.
    fn check(&self, principal: &Principal) -> RateDecision;
}

/// A [`RateLimiter`] that allows everything: for embedding where the host already limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unlimited;

impl RateLimiter for Unlimited {
    fn check(&self, _principal: &Principal) -> RateDecision {
        RateDecision::Allowed {
            limit: u32::MAX,
            remaining: u32::MAX,
        }
    }
}

/// Records one [`AuditEvent`] per action.
#[cfg_attr(feature = "test-util", mockall::automock)]
#[async_trait]
pub trait AuditSink: Send + Sync + Debug + 'static {
    /// Records an event. A failure is logged by the engine; it does not fail the action.
    async fn record(&self, event: &AuditEvent) -> Result<()>;
}

/// Keeps conversations and their messages, always scoped to an owner: asking for another
/// owner's conversation behaves exactly like asking for one that does not exist.
#[cfg_attr(feature = "test-util", mockall::automock)]
#[async_trait]
pub trait ConversationStore: Send + Sync + Debug + 'static {
    /// Stores a new conversation with its first messages (e.g. the greeting), atomically.
    /// Fails with [`Error::Storage`](crate::Error::Storage) if a conversation with its id
    /// already exists, whoever owns it (ids are generated, so a duplicate is a bug, never a
    /// request to overwrite), and leaves that conversation as it was.
    async fn create(&self, conversation: &Conversation, messages: &[Message]) -> Result<()>;

    /// One conversation of `owner`, or `None`.
    async fn get(&self, owner: &str, id: ConversationId) -> Result<Option<Conversation>>;

    /// All conversations of `owner`, most recently updated first.
    async fn list(&self, owner: &str) -> Result<Vec<Conversation>>;

    /// Deletes a conversation and its messages; `false` if there was none.
    async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool>;

    /// Appends a message and bumps the conversation's `updated_at` to the message's
    /// `created_at` (never backwards: an older message leaves it as it was).
    /// Fails with [`Error::NotFound`](crate::Error::NotFound) if the conversation is not `owner`'s.
    async fn append(&self, owner: &str, id: ConversationId, message: &Message) -> Result<()>;

    /// Appends `messages` in order (a user's message and the reply), as one atomic write where
    /// the store can: SQLite commits them in one transaction, which halves the disk writes of
    /// a turn. The default appends them one by one.
    /// Fails with [`Error::NotFound`](crate::Error::NotFound) if the conversation is not `owner`'s.
    async fn append_all(
        &self,
        owner: &str,
        id: ConversationId,
        messages: &[Message],
    ) -> Result<()> {
        for message in messages {
            self.append(owner, id, message).await?;
        }
        Ok(())
    }

    /// The conversation's messages, oldest first; with `last`, only the newest `last` of them.
    /// Fails with [`Error::NotFound`](crate::Error::NotFound) if the conversation is not `owner`'s.
    async fn messages(
        &self,
        owner: &str,
        id: ConversationId,
        last: Option<usize>,
    ) -> Result<Vec<Message>>;

    /// Whether the store can serve requests (for readiness probes).
    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}
