//! The engine: every action runs the same way, whatever the providers.
//!
//! principal -> rate limit -> validate -> route -> prompt -> model -> persist -> audit.
//! Each public method is one action and produces exactly one audit event (see
//! [`action`](self)), also when it fails, is rate limited, or the caller drops it (or its
//! stream) before it ends.

mod action;
mod builder;
mod context;
mod guard;
mod results;
mod stream;
mod turn;

use std::sync::Arc;

pub use builder::{EngineLimits, LinkBuilder};
pub use context::RequestContext;
pub use results::{ChatOutcome, ConversationDetail, PersonaSource, Reply, TurnEvent, TurnStream};

use action::Action;
use guard::AuditGuard;
use turn::{blocked, persist_turn};

use crate::{
    AuditAction, AuditSink, ChatModel, Conversation, ConversationId, ConversationStore, Error,
    Message, Persona, PersonaExtractor, PromptBuilder, RateLimiter, Result, Role, Route,
    persona::validate_request, route,
};

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

impl Link {
    /// Starts building an engine.
    pub fn builder() -> LinkBuilder {
        LinkBuilder::default()
    }

    /// The conversation store, for readiness checks and maintenance.
    pub fn store(&self) -> &Arc<dyn ConversationStore> {
        &self.store
    }

    /// The rate limiter, for transports that count a request before the call and hand the
    /// decision in with [`RequestContext::admitted`].
    pub fn rate_limiter(&self) -> &Arc<dyn RateLimiter> {
        &self.limiter
    }

    /// Extracts, normalises and validates a persona without starting a conversation.
    pub async fn extract_persona(&self, ctx: &RequestContext, request: &str) -> Result<Persona> {
        let action = Action::new(AuditAction::ExtractPersona).with_input(request);
        self.act(ctx, action, async |audit| {
            let persona = self.persona_from(audit, request).await?;
            audit.response(&persona.name, None);
            Ok(persona)
        })
        .await
    }

    /// Starts a conversation: the persona (extracted or given) is validated and stored, and its
    /// greeting becomes the first message.
    pub async fn create_conversation(
        &self,
        ctx: &RequestContext,
        source: PersonaSource,
    ) -> Result<ConversationDetail> {
        let mut action = Action::new(AuditAction::CreateConversation);
        if let PersonaSource::Request(request) = &source {
            action = action.with_input(request);
        }
        self.act(ctx, action, async |audit| {
            let persona = match &source {
                PersonaSource::Request(request) => self.persona_from(audit, request).await?,
                PersonaSource::Persona(persona) => persona.as_ref().clone().validated()?,
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
        })
        .await
    }

    async fn persona_from(&self, audit: &mut AuditGuard, request: &str) -> Result<Persona> {
        let request = validate_request(request)?;
        audit.prompt(request);
        audit.model(self.extractor.model_id());
        self.extractor.extract(request).await?.validated()
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
        self.send_turn(ctx, id, content)
            .await
            .map(|(reply, _)| reply)
    }

    async fn send_turn(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
    ) -> Result<(Reply, Persona)> {
        let action = Action::new(AuditAction::SendMessage)
            .on(id)
            .with_input(content);
        self.act(ctx, action, async |audit| {
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
        })
        .await
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
        let action = Action::new(AuditAction::StreamMessage)
            .on(id)
            .with_input(content);
        let mut audit = self.admit(ctx, action).await?;
        let started = async {
            let turn = self.prepare_turn(ctx, id, content, &mut audit).await?;
            let upstream = self.model.stream(turn.request).await?;
            Ok((turn.user, upstream))
        }
        .await;
        let (user, upstream) = match started {
            Ok(started) => started,
            Err(e) => return Err(audit.fail(e).await),
        };
        let driver = stream::Driver {
            store: self.store.clone(),
            owner: ctx.principal.sub.clone(),
            conversation: id,
            user,
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
                let (reply, persona) = self.send_turn(ctx, conversation_id, prompt).await?;
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
        self.act(
            ctx,
            Action::new(AuditAction::ListConversations),
            async |_| self.store.list(&ctx.principal.sub).await,
        )
        .await
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
        let action = Action::new(AuditAction::GetConversation).on(id);
        self.act(ctx, action, async |_| {
            let conversation = self.owned(ctx, id).await?;
            let messages = self.store.messages(&ctx.principal.sub, id, last).await?;
            Ok(ConversationDetail {
                conversation,
                messages,
            })
        })
        .await
    }

    /// Deletes one of the caller's conversations; another user's is not found.
    pub async fn delete_conversation(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
    ) -> Result<()> {
        let action = Action::new(AuditAction::DeleteConversation).on(id);
        self.act(ctx, action, async |_| {
            match self.store.delete(&ctx.principal.sub, id).await? {
                true => Ok(()),
                false => Err(Error::not_found("conversation")),
            }
        })
        .await
    }

    async fn owned(&self, ctx: &RequestContext, id: ConversationId) -> Result<Conversation> {
        self.store
            .get(&ctx.principal.sub, id)
            .await?
            .ok_or_else(|| Error::not_found("conversation"))
    }
}
