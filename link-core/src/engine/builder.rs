//! Building an engine: which ports it holds and the limits it enforces.

use std::sync::Arc;

use super::Link;
use super::memory_settings::MemorySettings;
use super::moderate::Moderation;
use super::summarise::Summariser;
use crate::{
    ApiKeyStore, AuditSink, ChatModel, ContentPolicy, ConversationStore, Error, MemoryApiKeys,
    MemoryStore, Moderator, PersonaExtractor, PromptBuilder, RateLimiter, Result, TracingAuditSink,
    Unlimited,
};

/// Limits on what callers may send and keep.
///
/// The storage caps are per user and checked before every write that adds to the store;
/// 0 turns a cap off. A write over a cap is refused with [`Error::Forbidden`] and stores
/// nothing. A reply's length is not known before the model call, so the reply that takes a
/// user over the byte cap is still stored; the next write is refused.
#[derive(Debug, Clone)]
pub struct EngineLimits {
    /// Longest user message, in characters (default 8000).
    pub max_message_chars: usize,
    /// How many stored messages are read to build a prompt before token trimming (default 200).
    pub history_window: usize,
    /// Most conversations a user may keep (default 1000; 0 = no cap).
    pub max_conversations_per_user: usize,
    /// Most messages one conversation may hold (default 10 000; 0 = no cap).
    pub max_messages_per_conversation: usize,
    /// Most bytes of message text a user may keep, every version of every message counted
    /// (see [`StoreUsage::message_bytes`](crate::StoreUsage::message_bytes); default 50 MB;
    /// 0 = no cap).
    pub max_stored_bytes_per_user: u64,
}

impl Default for EngineLimits {
    fn default() -> Self {
        Self {
            max_message_chars: 8000,
            history_window: 200,
            max_conversations_per_user: 1000,
            max_messages_per_conversation: 10_000,
            max_stored_bytes_per_user: 50_000_000,
        }
    }
}

/// Builds a [`Link`]. The extractor and chat model are required; the store defaults to
/// [`MemoryStore`], the limiter to [`Unlimited`], the audit sink to [`TracingAuditSink`];
/// there is no moderator unless one is set.
#[derive(Debug, Default)]
pub struct LinkBuilder {
    extractor: Option<Arc<dyn PersonaExtractor>>,
    model: Option<Arc<dyn ChatModel>>,
    store: Option<Arc<dyn ConversationStore>>,
    limiter: Option<Arc<dyn RateLimiter>>,
    audit: Option<Arc<dyn AuditSink>>,
    prompt: PromptBuilder,
    limits: EngineLimits,
    moderator: Option<Arc<dyn Moderator>>,
    model_moderates_turns: bool,
    keys: Option<Arc<dyn ApiKeyStore>>,
    summariser: Option<Arc<dyn ChatModel>>,
    memory: MemorySettings,
}

impl LinkBuilder {
    /// The persona extractor (required).
    pub fn extractor(mut self, extractor: Arc<dyn PersonaExtractor>) -> Self {
        self.extractor = Some(extractor);
        self
    }

    /// The chat model (required).
    pub fn chat_model(mut self, model: Arc<dyn ChatModel>) -> Self {
        self.model = Some(model);
        self
    }

    /// The conversation store.
    pub fn store(mut self, store: Arc<dyn ConversationStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The rate limiter.
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The audit sink.
    pub fn audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// The prompt builder (history budget, token counter, sampling settings).
    pub fn prompt(mut self, prompt: PromptBuilder) -> Self {
        self.prompt = prompt;
        self
    }

    /// The moderator that checks, before the engine uses them: what users send (before any
    /// model call), replies (before they are stored or returned; a streamed reply is held back
    /// and released segment by segment, see [`Link::send_stream`]), and personas with their
    /// greetings (extracted or given, before a conversation is created or a persona
    /// returned). A blocked text is [`Error::ContentBlocked`]. Without one nothing is checked
    /// and streamed text is not held back.
    pub fn moderator(mut self, moderator: Arc<dyn Moderator>) -> Self {
        self.moderator = Some(moderator);
        self
    }

    /// Says that the chat model moderates its own input and replies (Bedrock Converse with a
    /// guardrail does), so the [`moderator`](Self::moderator) checks only personas and
    /// greetings: each text is checked once, not twice.
    pub fn model_moderates_turns(mut self, yes: bool) -> Self {
        self.model_moderates_turns = yes;
        self
    }

    /// The model that writes conversations' memory (default: the chat model). A small, cheap
    /// model does; it reads the memory so far and the turns that left the window.
    pub fn summariser(mut self, model: Arc<dyn ChatModel>) -> Self {
        self.summariser = Some(model);
        self
    }

    /// How conversations' memory is kept (see [`MemorySettings`]).
    pub fn memory(mut self, settings: MemorySettings) -> Self {
        self.memory = settings;
        self
    }

    /// Input limits and storage caps.
    pub fn limits(mut self, limits: EngineLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets where API keys are kept (default: in memory, lost on restart).
    pub fn api_keys(mut self, keys: Arc<dyn ApiKeyStore>) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The engine, or a configuration error naming what is missing.
    pub fn build(self) -> Result<Link> {
        let missing = |what: &str| Error::Config {
            message: format!("Link needs a {what}"),
        };
        let model = self.model.ok_or_else(|| missing("chat model"))?;
        let store: Arc<dyn ConversationStore> = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::default()));
        let limiter: Arc<dyn RateLimiter> = self.limiter.unwrap_or_else(|| Arc::new(Unlimited));
        let audit: Arc<dyn AuditSink> = self
            .audit
            .unwrap_or_else(|| Arc::new(TracingAuditSink::new(ContentPolicy::Full)));
        let summariser = Summariser::new(
            self.summariser.unwrap_or_else(|| model.clone()),
            store.clone(),
            audit.clone(),
            limiter.clone(),
            self.memory,
        );
        Ok(Link {
            extractor: self.extractor.ok_or_else(|| missing("persona extractor"))?,
            model,
            store,
            limiter,
            keys: self
                .keys
                .unwrap_or_else(|| Arc::new(MemoryApiKeys::default())),
            audit,
            summariser: Arc::new(summariser),
            prompt: self.prompt,
            limits: self.limits,
            moderation: self.moderator.map(|moderator| Moderation {
                moderator,
                turns: !self.model_moderates_turns,
            }),
        })
    }
}
