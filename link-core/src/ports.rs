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
mod turn_state;
mod usage;

pub use turn_state::TurnState;
pub use usage::StoreUsage;

use crate::{
    AuditEvent, Avatar, ChatEvent, ChatRequest, ChatResponse, ChatStream, Conversation,
    ConversationId, ConversationPatch, ConversationTokens, Message, Month, Page, PageRequest,
    Persona, Principal, Result, Splice, UserPersona,
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

    /// How many tokens this model reads and writes in one call: the prompt and the reply
    /// together. The engine fits every prompt to it, leaving the reply's `max_tokens` free.
    ///
    /// The default, [`DEFAULT_CONTEXT_WINDOW`](crate::prompt::DEFAULT_CONTEXT_WINDOW), is
    /// small enough for any chat model in use; adapters say their model's own.
    fn context_window(&self) -> usize {
        crate::prompt::DEFAULT_CONTEXT_WINDOW
    }

    /// How this model counts tokens, for fitting prompts to its
    /// [`context_window`](Self::context_window). The default approximates
    /// ([`ApproxTokenCounter`](crate::ApproxTokenCounter)); adapters that have the model's
    /// tokenizer count exactly.
    fn token_counter(&self) -> std::sync::Arc<dyn crate::TokenCounter> {
        std::sync::Arc::new(crate::ApproxTokenCounter)
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
    /// Not before the principal's tokens of the day are renewed: its daily token quota is
    /// used up (see [`RateLimiter::tokens_exhausted`]).
    Exhausted {
        /// How long until the quota renews, rounded up to whole seconds.
        retry_after: Duration,
    },
}

/// Decides whether a principal may make another request now. Synchronous: nothing to await.
///
/// Requests are weighed: a model call costs more of the allowance than a read (see
/// [`AuditAction::cost`](crate::AuditAction::cost)). A limiter may also keep a daily token
/// quota per principal, fed by the usage the models report. Only [`check`](Self::check) is
/// required: by default a request counts as one whatever its cost, and there is no quota.
pub trait RateLimiter: Send + Sync + Debug + 'static {
    /// Counts one request for `principal` and says whether it may go ahead.
    fn check(&self, principal: &Principal) -> RateDecision;

    /// Counts a request that costs `cost` requests of `principal`'s allowance, all or
    /// nothing: denied, it uses none of it. A cost of 0 counts as 1, and a cost above the
    /// whole burst takes the whole burst (else it could never pass). `remaining` and `limit`
    /// are in requests.
    ///
    /// The default counts the request once, whatever its cost: a limiter that cannot weigh
    /// requests limits their number.
    fn check_n(&self, principal: &Principal, cost: u32) -> RateDecision {
        let _ = cost;
        self.check(principal)
    }

    /// How long until `principal`'s daily token quota renews, if it is used up; `None` while
    /// tokens are left or there is no quota. Counts nothing.
    ///
    /// The default: no quota.
    fn tokens_exhausted(&self, principal: &Principal) -> Option<Duration> {
        let _ = principal;
        None
    }

    /// Records `tokens` that a model call of `principal` used, as the model reported them,
    /// against its daily token quota.
    ///
    /// The default: no quota, nothing to record.
    fn spend_tokens(&self, principal: &Principal, tokens: u64) {
        let _ = (principal, tokens);
    }

    /// The decision for a request costing `cost` that does (`model_call`) or does not call a
    /// model: [`Exhausted`](RateDecision::Exhausted) for a model call once the tokens of the
    /// day are used up (counting nothing: reads still pass), else [`check_n`](Self::check_n).
    fn admit(&self, principal: &Principal, cost: u32, model_call: bool) -> RateDecision {
        match self.tokens_exhausted(principal).filter(|_| model_call) {
            Some(retry_after) => RateDecision::Exhausted { retry_after },
            None => self.check_n(principal, cost),
        }
    }
}

#[cfg(feature = "test-util")]
mockall::mock! {
    /// A mock [`RateLimiter`]: [`check`](RateLimiter::check) is mocked; the other methods
    /// are the trait's defaults (a request counts once, no token quota).
    pub RateLimiter {}

    impl RateLimiter for RateLimiter {
        fn check(&self, principal: &Principal) -> RateDecision;
    }
}

#[cfg(feature = "test-util")]
impl Debug for MockRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MockRateLimiter")
    }
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

    /// A page of `owner`'s conversations, most recently updated first (ties: the newer id
    /// first). A conversation updated while a client pages may appear twice or be skipped
    /// by that listing; none of the others is. A cursor the store did not make is an
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest).
    async fn list(&self, owner: &str, page: &PageRequest) -> Result<Page<Conversation>>;

    /// Changes a conversation's own fields and returns it as stored.
    /// Fails with [`Error::NotFound`](crate::Error::NotFound) if it is not `owner`'s.
    async fn update(
        &self,
        owner: &str,
        id: ConversationId,
        patch: &ConversationPatch,
    ) -> Result<Conversation>;

    /// Deletes a conversation and its messages; `false` if there was none.
    async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool>;

    /// Appends a message and bumps the conversation's `updated_at` to the message's
    /// `created_at` (never backwards: an older message leaves it as it was).
    /// Fails with [`Error::NotFound`](crate::Error::NotFound) if the conversation is not `owner`'s.
    async fn append(&self, owner: &str, id: ConversationId, message: &Message) -> Result<()> {
        self.append_all(owner, id, std::slice::from_ref(message))
            .await
    }

    /// Appends `messages` in order (a user's message and the reply) in one atomic write:
    /// SQLite commits them in one transaction, which halves the disk writes of a turn. The
    /// default is a [`Splice`] that only appends.
    /// Fails with [`Error::NotFound`](crate::Error::NotFound) if the conversation is not
    /// `owner`'s, also when `messages` is empty.
    async fn append_all(
        &self,
        owner: &str,
        id: ConversationId,
        messages: &[Message],
    ) -> Result<()> {
        let splice = Splice {
            append: messages.to_vec(),
            ..Splice::default()
        };
        self.splice(owner, id, &splice).await
    }

    /// Applies a [`Splice`] (cut, rewrite, append) atomically: all of it or, on any error,
    /// nothing. See [`Splice`] for the checks and their errors.
    async fn splice(&self, owner: &str, id: ConversationId, splice: &Splice) -> Result<()>;

    /// The conversation's messages, oldest first; with `last`, only the newest `last` of them.
    /// Fails with [`Error::NotFound`](crate::Error::NotFound) if the conversation is not `owner`'s.
    async fn messages(
        &self,
        owner: &str,
        id: ConversationId,
        last: Option<usize>,
    ) -> Result<Vec<Message>>;

    /// The conversation's avatar (a PNG image), or `None` if it has none.
    /// Fails with [`Error::NotFound`](crate::Error::NotFound) if the conversation is not `owner`'s.
    async fn avatar(&self, owner: &str, id: ConversationId) -> Result<Option<Avatar>>;

    /// Sets (or with `None`, removes) the conversation's avatar, replacing any it had, in one
    /// atomic write: a reader sees the old avatar or the new one, never a mix. Deleting the
    /// conversation deletes its avatar. Fails with
    /// [`Error::NotFound`](crate::Error::NotFound) if the conversation is not `owner`'s.
    async fn set_avatar(
        &self,
        owner: &str,
        id: ConversationId,
        avatar: Option<Avatar>,
    ) -> Result<()>;

    /// `owner`'s default user persona, if they set one.
    async fn user_persona(&self, owner: &str) -> Result<Option<UserPersona>>;

    /// Sets (or with `None`, clears) `owner`'s default user persona.
    async fn set_user_persona(&self, owner: &str, persona: Option<UserPersona>) -> Result<()>;

    /// How much `owner` keeps in the store (conversations and bytes of message text) and,
    /// with `conversation`, how many messages that conversation holds: what the engine checks
    /// its storage caps against before every write. Fails with
    /// [`Error::NotFound`](crate::Error::NotFound) if `conversation` is not `owner`'s.
    ///
    /// The default reads every conversation and message of the owner through
    /// [`list`](Self::list) and [`messages`](Self::messages); a store that can count (SQL's
    /// `COUNT` and `SUM`) should override it.
    async fn usage(&self, owner: &str, conversation: Option<ConversationId>) -> Result<StoreUsage> {
        usage::scan(self, owner, conversation).await
    }

    /// What a turn reads before it calls the model, for `owner`'s conversation `id`: the
    /// conversation, its newest `window` messages (oldest first), the owner's
    /// [`usage`](Self::usage) with this conversation, and who the user is in it (its own user
    /// persona, else the owner's default). Fails with
    /// [`Error::NotFound`](crate::Error::NotFound) if the conversation is not `owner`'s.
    ///
    /// The default makes those calls one after another; a store that can read them together
    /// should override it (DynamoDB reads them in one round trip).
    async fn turn_state(
        &self,
        owner: &str,
        id: ConversationId,
        window: usize,
    ) -> Result<TurnState> {
        turn_state::read(self, owner, id, window).await
    }

    /// The model tokens `owner`'s conversations used in `month`: one tally per conversation
    /// that used any, the sum of the [`Splice::tokens`] of every splice applied to it that
    /// month, the most tokens (input plus output) first, ties the newer conversation id first
    /// (as [`sort_tallies`](crate::token_usage::sort_tallies) orders them). Another owner's
    /// tallies are never included.
    ///
    /// Tallies outlive their conversation: they record what was used, so deleting a
    /// conversation does not take back the tokens it cost (its tally is still listed, with an
    /// id that no longer resolves).
    async fn token_usage(&self, owner: &str, month: Month) -> Result<Vec<ConversationTokens>>;

    /// Whether the store can serve requests (for readiness probes).
    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}
