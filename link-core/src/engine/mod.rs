//! The engine: every action runs the same way, whatever the providers.
//!
//! principal -> rate limit -> validate -> route -> prompt -> model -> persist -> audit.
//! Each public method is one action and produces exactly one audit event, also when it fails,
//! is rate limited, or the caller drops it (or its stream) before it ends.

mod context;
mod guard;
mod stream;

use std::sync::Arc;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

pub use context::RequestContext;
use guard::AuditGuard;

use crate::{
    AuditAction, AuditSink, ChatModel, ContentPolicy, Conversation, ConversationId,
    ConversationStore, Error, MemoryStore, Message, Persona, PersonaExtractor, PromptBuilder,
    RateDecision, RateLimiter, Result, Role, Route, StopReason, TracingAuditSink, Unlimited, Usage,
    persona::validate_request, route,
};

/// Limits on what callers may send.
#[derive(Debug, Clone)]
pub struct EngineLimits {
    /// Longest user message, in characters (default 8000).
    pub max_message_chars: usize,
    /// How many stored messages are read to build a prompt before token trimming (default 200).
    pub history_window: usize,
}

impl Default for EngineLimits {
    fn default() -> Self {
        Self {
            max_message_chars: 8000,
            history_window: 200,
        }
    }
}

/// Where a new conversation's persona comes from.
#[derive(Debug, Clone)]
pub enum PersonaSource {
    /// Extract it from a free-text request ("Sherlock Holmes").
    Request(String),
    /// Use this persona as it is (an imported card, a persona from an earlier extraction).
    Persona(Box<Persona>),
}

/// A conversation with its messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationDetail {
    /// The conversation.
    pub conversation: Conversation,
    /// Its messages, oldest first; the first is the character's greeting.
    pub messages: Vec<Message>,
}

/// The character's reply to one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The stored reply.
    pub message: Message,
    /// Why the reply ended.
    pub stop_reason: StopReason,
    /// Token counts, if the provider reported them.
    pub usage: Option<Usage>,
}

/// The outcome of the seed's single chat endpoint (see [`Link::chat`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatOutcome {
    /// The character's words: a greeting for a new character, else the reply.
    pub completion: String,
    /// The conversation it happened in (new when a character was created).
    pub conversation_id: ConversationId,
    /// The character.
    pub persona: Persona,
}

/// One event of a streamed turn ([`Link::send_stream`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TurnEvent {
    /// More reply text.
    Delta {
        /// The new text.
        text: String,
    },
    /// The reply is complete and stored; always the last event of a successful turn.
    Done {
        /// The stored reply.
        message: Message,
        /// Why the reply ended.
        stop_reason: StopReason,
        /// Token counts, if the provider reported them.
        usage: Option<Usage>,
    },
}

/// A streamed turn. Dropping it cancels the model call; the partial reply is still stored and
/// the action is audited as cancelled.
pub type TurnStream = BoxStream<'static, Result<TurnEvent>>;

/// The Link engine. Cheap to clone; share one per process.
///
/// ```
/// use std::sync::Arc;
/// use link_core::{Link, PersonaSource, Principal, RequestContext};
/// use link_core::testing::{ScriptedChatModel, ScriptedExtractor};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let link = Link::builder()
///     .extractor(Arc::new(ScriptedExtractor::default()))
///     .chat_model(Arc::new(ScriptedChatModel::replying(["Elementary."])))
///     .build()
///     .unwrap();
/// let ctx = RequestContext::new(Principal::new("alice"));
/// let conv = link.create_conversation(&ctx, PersonaSource::Request("Sherlock Holmes".into())).await.unwrap();
/// let reply = link.send(&ctx, conv.conversation.id, "Who are you?").await.unwrap();
/// assert_eq!(reply.message.content, "Elementary.");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Link {
    extractor: Arc<dyn PersonaExtractor>,
    model: Arc<dyn ChatModel>,
    store: Arc<dyn ConversationStore>,
    limiter: Arc<dyn RateLimiter>,
    audit: Arc<dyn AuditSink>,
    prompt: PromptBuilder,
    limits: EngineLimits,
}

/// Builds a [`Link`]. The extractor and chat model are required; the store defaults to
/// [`MemoryStore`], the limiter to [`Unlimited`], the audit sink to [`TracingAuditSink`].
#[derive(Debug, Default)]
pub struct LinkBuilder {
    extractor: Option<Arc<dyn PersonaExtractor>>,
    model: Option<Arc<dyn ChatModel>>,
    store: Option<Arc<dyn ConversationStore>>,
    limiter: Option<Arc<dyn RateLimiter>>,
    audit: Option<Arc<dyn AuditSink>>,
    prompt: PromptBuilder,
    limits: EngineLimits,
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

    /// Input limits.
    pub fn limits(mut self, limits: EngineLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The engine, or a configuration error naming what is missing.
    pub fn build(self) -> Result<Link> {
        let missing = |what: &str| Error::Config {
            message: format!("Link needs a {what}"),
        };
        Ok(Link {
            extractor: self.extractor.ok_or_else(|| missing("persona extractor"))?,
            model: self.model.ok_or_else(|| missing("chat model"))?,
            store: self
                .store
                .unwrap_or_else(|| Arc::new(MemoryStore::default())),
            limiter: self.limiter.unwrap_or_else(|| Arc::new(Unlimited)),
            audit: self
                .audit
                .unwrap_or_else(|| Arc::new(TracingAuditSink::new(ContentPolicy::Full))),
            prompt: self.prompt,
            limits: self.limits,
        })
    }
}

impl Link {
    /// Starts building an engine.
    pub fn builder() -> LinkBuilder {
        LinkBuilder::default()
    }

    /// The conversation store, for readiness checks and maintenance.
    pub fn store(&self) -> &Arc<dyn ConversationStore> {
        &self.store
    }

    /// Extracts, normalises and validates a persona without starting a conversation.
    pub async fn extract_persona(&self, ctx: &RequestContext, request: &str) -> Result<Persona> {
        let mut audit = self.begin(ctx, AuditAction::ExtractPersona);
        audit.prompt(request);
        let result = self.extract_inner(ctx, request, &mut audit).await;
        audit.finish(&result).await;
        result
    }

    async fn extract_inner(
        &self,
        ctx: &RequestContext,
        request: &str,
        audit: &mut AuditGuard,
    ) -> Result<Persona> {
        self.admitted(ctx)?;
        let persona = self.persona_from(audit, request).await?;
        audit.response(&persona.name, None);
        Ok(persona)
    }

    /// Starts a conversation: the persona (extracted or given) is validated and stored, and its
    /// greeting becomes the first message.
    pub async fn create_conversation(
        &self,
        ctx: &RequestContext,
        source: PersonaSource,
    ) -> Result<ConversationDetail> {
        let mut audit = self.begin(ctx, AuditAction::CreateConversation);
        let result = self.create_inner(ctx, source, &mut audit).await;
        audit.finish(&result).await;
        result
    }

    async fn create_inner(
        &self,
        ctx: &RequestContext,
        source: PersonaSource,
        audit: &mut AuditGuard,
    ) -> Result<ConversationDetail> {
        self.admitted(ctx)?;
        let persona = match source {
            PersonaSource::Request(request) => {
                audit.prompt(&request);
                self.persona_from(audit, &request).await?
            }
            PersonaSource::Persona(persona) => {
                let persona = persona.normalized();
                persona.validate()?;
                persona
            }
        };
        let conversation = Conversation::new(ctx.principal.sub.clone(), persona);
        audit.conversation(conversation.id);
        let greeting = Message::new(Role::Assistant, conversation.persona.greeting.clone());
        audit.response(&greeting.content, None);
        self.store
            .create(&conversation, std::slice::from_ref(&greeting))
            .await?;
        Ok(ConversationDetail {
            conversation,
            messages: vec![greeting],
        })
    }

    async fn persona_from(&self, audit: &mut AuditGuard, request: &str) -> Result<Persona> {
        let request = validate_request(request)?;
        audit.model(self.extractor.model_id());
        let persona = self.extractor.extract(request).await?.normalized();
        persona.validate()?;
        Ok(persona)
    }

    /// Sends a message and waits for the whole reply; both are stored.
    ///
    /// A guardrail intervention is [`Error::GuardrailBlocked`] (and a content filter stop
    /// [`Error::ContentFiltered`]); nothing of a blocked turn is stored.
    pub async fn send(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
    ) -> Result<Reply> {
        let mut audit = self.begin(ctx, AuditAction::SendMessage);
        let result = self.send_inner(ctx, id, content, &mut audit).await;
        audit.finish(&result).await;
        result.map(|(reply, _)| reply)
    }

    async fn send_inner(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
        audit: &mut AuditGuard,
    ) -> Result<(Reply, Persona)> {
        let turn = self.prepare_turn(ctx, id, content, audit).await?;
        let response = self.model.complete(turn.request).await?;
        audit.response(&response.text, response.usage);
        blocked(&response.stop_reason, &response.text)?;
        let message = Message::new(Role::Assistant, response.text);
        persist_turn(&*self.store, &ctx.principal.sub, id, &turn.user, &message).await?;
        let reply = Reply {
            message,
            stop_reason: response.stop_reason,
            usage: response.usage,
        };
        Ok((reply, turn.persona))
    }

    /// Sends a message and streams the reply. The `Err` of the returned `Result` means the turn
    /// failed before the first token; an `Err` item is a failure mid-way (a guardrail block is
    /// one). Dropping the stream cancels the model call, stores the partial reply and audits
    /// the action as cancelled. Must be called within a Tokio runtime.
    pub async fn send_stream(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
    ) -> Result<TurnStream> {
        let mut audit = self.begin(ctx, AuditAction::StreamMessage);
        let turn = match self.prepare_turn(ctx, id, content, &mut audit).await {
            Ok(turn) => turn,
            Err(e) => return Err(audit.fail(e).await),
        };
        let upstream = match self.model.stream(turn.request).await {
            Ok(upstream) => upstream,
            Err(e) => return Err(audit.fail(e).await),
        };
        let driver = stream::Driver {
            store: self.store.clone(),
            owner: ctx.principal.sub.clone(),
            conversation: id,
            user: turn.user,
            audit,
        };
        Ok(driver.spawn(upstream))
    }

    /// The seed's single endpoint: routes `prompt` to the extractor (no conversation yet, or
    /// an explicit request for another character) or to the chat model.
    pub async fn chat(
        &self,
        ctx: &RequestContext,
        prompt: &str,
        conversation: Option<ConversationId>,
    ) -> Result<ChatOutcome> {
        match route(prompt, conversation) {
            Route::NewCharacter { request } => {
                let detail = self
                    .create_conversation(ctx, PersonaSource::Request(request))
                    .await?;
                Ok(ChatOutcome {
                    completion: detail.conversation.persona.greeting.clone(),
                    conversation_id: detail.conversation.id,
                    persona: detail.conversation.persona,
                })
            }
            Route::Chat { conversation_id } => {
                let mut audit = self.begin(ctx, AuditAction::SendMessage);
                let result = self
                    .send_inner(ctx, conversation_id, prompt, &mut audit)
                    .await;
                audit.finish(&result).await;
                let (reply, persona) = result?;
                Ok(ChatOutcome {
                    completion: reply.message.content,
                    conversation_id,
                    persona,
                })
            }
        }
    }

    /// The caller's conversations, most recently updated first.
    pub async fn list_conversations(&self, ctx: &RequestContext) -> Result<Vec<Conversation>> {
        let audit = self.begin(ctx, AuditAction::ListConversations);
        let result = async {
            self.admitted(ctx)?;
            self.store.list(&ctx.principal.sub).await
        }
        .await;
        audit.finish(&result).await;
        result
    }

    /// One of the caller's conversations with its messages; another user's is not found.
    pub async fn get_conversation(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
    ) -> Result<ConversationDetail> {
        self.conversation_detail(ctx, id, None).await
    }

    /// One of the caller's conversations with only its newest `last` messages (oldest
    /// first): what a client needs to resume a long conversation without reading all of it.
    pub async fn get_conversation_last(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        last: usize,
    ) -> Result<ConversationDetail> {
        self.conversation_detail(ctx, id, Some(last)).await
    }

    async fn conversation_detail(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        last: Option<usize>,
    ) -> Result<ConversationDetail> {
        let mut audit = self.begin(ctx, AuditAction::GetConversation);
        audit.conversation(id);
        let result = async {
            self.admitted(ctx)?;
            let conversation = self.owned(ctx, id).await?;
            let messages = self.store.messages(&ctx.principal.sub, id, last).await?;
            Ok(ConversationDetail {
                conversation,
                messages,
            })
        }
        .await;
        audit.finish(&result).await;
        result
    }

    /// Deletes one of the caller's conversations; another user's is not found.
    pub async fn delete_conversation(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
    ) -> Result<()> {
        let mut audit = self.begin(ctx, AuditAction::DeleteConversation);
        audit.conversation(id);
        let result = async {
            self.admitted(ctx)?;
            match self.store.delete(&ctx.principal.sub, id).await? {
                true => Ok(()),
                false => Err(Error::not_found("conversation")),
            }
        }
        .await;
        audit.finish(&result).await;
        result
    }

    fn begin(&self, ctx: &RequestContext, action: AuditAction) -> AuditGuard {
        AuditGuard::start(self.audit.clone(), ctx, action)
    }

    /// Counts the request against the caller's quota.
    fn admitted(&self, ctx: &RequestContext) -> Result<()> {
        let decision = self.limiter.check(&ctx.principal);
        ctx.set_rate_decision(decision);
        match decision {
            RateDecision::Allowed { .. } => Ok(()),
            RateDecision::Denied { retry_after, .. } => Err(Error::RateLimited { retry_after }),
        }
    }

    async fn owned(&self, ctx: &RequestContext, id: ConversationId) -> Result<Conversation> {
        self.store
            .get(&ctx.principal.sub, id)
            .await?
            .ok_or_else(|| Error::not_found("conversation"))
    }

    fn validate_message<'a>(&self, content: &'a str) -> Result<&'a str> {
        if content.trim().is_empty() {
            return Err(Error::invalid("the message is empty"));
        }
        if content.chars().count() > self.limits.max_message_chars {
            return Err(Error::invalid(format!(
                "the message is longer than {} characters",
                self.limits.max_message_chars
            )));
        }
        Ok(content)
    }

    async fn prepare_turn(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
        audit: &mut AuditGuard,
    ) -> Result<PreparedTurn> {
        audit.conversation(id);
        audit.prompt(content);
        self.admitted(ctx)?;
        let content = self.validate_message(content)?;
        let conversation = self.owned(ctx, id).await?;
        let window = Some(self.limits.history_window);
        let mut history = self.store.messages(&ctx.principal.sub, id, window).await?;
        let user = Message::new(Role::User, content);
        history.push(user.clone());
        audit.model(self.model.model_id());
        let request = self.prompt.build(&conversation.persona, &history);
        Ok(PreparedTurn {
            request,
            user,
            persona: conversation.persona,
        })
    }
}

struct PreparedTurn {
    request: crate::ChatRequest,
    user: Message,
    persona: Persona,
}

/// Stores the user's message and the reply, in that order.
pub(crate) async fn persist_turn(
    store: &dyn ConversationStore,
    owner: &str,
    id: ConversationId,
    user: &Message,
    reply: &Message,
) -> Result<()> {
    store
        .append_all(owner, id, &[user.clone(), reply.clone()])
        .await
}

/// A stop reason that means the reply must not be shown as the character's words.
pub(crate) fn blocked(stop_reason: &StopReason, text: &str) -> Result<()> {
    match stop_reason {
        StopReason::GuardrailIntervened => Err(Error::GuardrailBlocked {
            message: text.to_owned(),
        }),
        StopReason::ContentFiltered => Err(Error::ContentFiltered {
            message: text.to_owned(),
        }),
        _ => Ok(()),
    }
}
