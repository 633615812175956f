//! The engine: every action runs the same way, whatever the providers.
//!
//! principal -> rate limit -> validate -> route -> prompt -> model -> persist -> audit.
//! Each public method is one action and produces exactly one audit event (see
//! [`action`](self)), also when it fails, is rate limited, or the caller drops it (or its
//! stream) before it ends.

mod action;
mod avatar;
mod builder;
mod caps;
mod commit;
mod context;
mod controls;
mod detached;
mod generate;
mod guard;
mod keys;
mod lorebook;
mod memory_settings;
mod moderate;
mod options;
mod profile;
mod results;
mod stream;
mod summarise;
mod tokens;
mod turn;

use std::sync::Arc;

pub use builder::{EngineLimits, LinkBuilder};
pub use context::RequestContext;
pub use controls::Rewind;
pub use memory_settings::MemorySettings;
pub use options::{MAX_INSTRUCTIONS_CHARS, TurnOptions};
pub use results::{ChatOutcome, ConversationDetail, PersonaSource, Reply, TurnEvent, TurnStream};

use action::Action;
use caps::Growth;
use guard::AuditGuard;

use crate::user_persona::{DEFAULT_USER_NAME, expand_macros};
use crate::{
    AuditAction, AuditSink, ChatModel, Conversation, ConversationId, ConversationStore, Error,
    Message, Page, PageRequest, Persona, PersonaExtractor, PromptBuilder, RateLimiter, Result,
    Role, Route, TextSource, persona::validate_request, route,
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
    keys: Arc<dyn crate::ApiKeyStore>,
    audit: Arc<dyn AuditSink>,
    prompt: PromptBuilder,
    limits: EngineLimits,
    moderation: Option<moderate::Moderation>,
    summariser: Arc<summarise::Summariser>,
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

    /// Waits until no memory summary is running (each runs after a reply is stored, off the
    /// reply's path): for tests, and for a process that wants its summaries done before it
    /// exits.
    pub async fn memory_settled(&self) {
        self.summariser.settled().await;
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
            self.moderate_persona(&persona, &[], TextSource::Output)
                .await?;
            audit.response(&persona.name, None);
            Ok(persona)
        })
        .await
    }

    /// Starts a conversation: the persona (extracted or given) is validated and stored, and its
    /// greeting becomes the first message. With a moderator, the persona and every version of
    /// its greeting are checked first; blocked, no conversation is created
    /// ([`Error::ContentBlocked`]).
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
            let (persona, alternates) = match &source {
                PersonaSource::Request(request) => {
                    (self.persona_from(audit, request).await?, vec![])
                }
                PersonaSource::Persona(persona) => (persona.as_ref().clone().validated()?, vec![]),
                PersonaSource::Card(card) => {
                    let greetings = card.greetings()?;
                    (card.to_persona()?, greetings.into_iter().skip(1).collect())
                }
            };
            // An extracted persona is the model's text; a given one (or a card) the user's.
            let from = match &source {
                PersonaSource::Request(_) => TextSource::Output,
                _ => TextSource::Input,
            };
            self.moderate_persona(&persona, &alternates, from).await?;
            let conversation = Conversation::new(ctx.principal.sub.clone(), persona);
            audit.conversation(conversation.id);
            let greeting = self.greeting(ctx, &conversation, alternates).await?;
            audit.response(&greeting.content, None);
            let greeting_only = std::slice::from_ref(&greeting);
            self.check_caps(ctx, Growth::new_conversation(greeting_only))
                .await?;
            self.store.create(&conversation, greeting_only).await?;
            Ok(ConversationDetail {
                conversation,
                messages: vec![greeting],
            })
        })
        .await
    }

    /// The greeting message (with `alternates` as its other versions), the card macros
    /// filled in for who the user is now.
    async fn greeting(
        &self,
        ctx: &RequestContext,
        conversation: &Conversation,
        alternates: Vec<String>,
    ) -> Result<Message> {
        let user = self.user_persona_in(ctx, conversation).await?;
        let user = user.as_ref().map_or(DEFAULT_USER_NAME, |u| u.name.as_str());
        let persona = &conversation.persona;
        let versions = std::iter::once(&persona.greeting)
            .chain(&alternates)
            .map(|text| expand_macros(text, user, &persona.name))
            .collect();
        Ok(Message::with_versions(Role::Assistant, versions))
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
    /// [`Error::ContentFiltered`]); with a moderator, a blocked message or reply is
    /// [`Error::ContentBlocked`] (a blocked message reaches no model). Nothing of a blocked
    /// turn is stored.
    pub async fn send(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
    ) -> Result<Reply> {
        self.send_with(ctx, id, content, &TurnOptions::default())
            .await
    }

    /// [`send`](Self::send) with the turn's own `options`: sampling settings within the
    /// engine's, and the user's instructions, framed as data after Link's rules.
    pub async fn send_with(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
        options: &TurnOptions,
    ) -> Result<Reply> {
        self.send_turn(ctx, id, content, options)
            .await
            .map(|(reply, _)| reply)
    }

    async fn send_turn(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
        options: &TurnOptions,
    ) -> Result<(Reply, Persona)> {
        let action = Action::new(AuditAction::SendMessage).with_input(content);
        self.generate(ctx, id, action, async |audit| {
            self.prepare_turn(ctx, id, content, options, audit).await
        })
        .await
    }

    /// Sends a message and streams the reply. The `Err` of the returned `Result` means the turn
    /// failed before the first token; an `Err` item is a failure mid-way (a guardrail block is
    /// one). Dropping the stream cancels the model call, stores the user's message with the
    /// partial reply marked [`interrupted`](Message::interrupted) (to regenerate, not send
    /// again) and audits the action as cancelled. Must be called within a Tokio runtime.
    ///
    /// With a moderator the reply is held back and released a segment at a time (up to a
    /// sentence end once 64 bytes are held, or about 512 bytes without one), each segment
    /// once the moderator passed it; at the end the whole reply is checked before its last
    /// segment is released. A blocked segment ends the stream with an
    /// [`Error::ContentBlocked`] item; what was not released is never sent or stored, and
    /// the turn stores nothing. A dropped stream keeps only the released text.
    pub async fn send_stream(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
    ) -> Result<TurnStream> {
        self.send_stream_with(ctx, id, content, &TurnOptions::default())
            .await
    }

    /// [`send_stream`](Self::send_stream) with the turn's own `options` (see
    /// [`send_with`](Self::send_with)).
    pub async fn send_stream_with(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
        options: &TurnOptions,
    ) -> Result<TurnStream> {
        let action = Action::new(AuditAction::StreamMessage).with_input(content);
        self.generate_stream(ctx, id, action, async |audit| {
            self.prepare_turn(ctx, id, content, options, audit).await
        })
        .await
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
                let options = TurnOptions::default();
                let (reply, persona) = self
                    .send_turn(ctx, conversation_id, prompt, &options)
                    .await?;
                Ok(ChatOutcome {
                    completion: reply.message.content,
                    conversation_id,
                    persona,
                })
            }
        }
    }

    /// A page of the caller's conversations, most recently updated first.
    pub async fn list_conversations(
        &self,
        ctx: &RequestContext,
        page: &PageRequest,
    ) -> Result<Page<Conversation>> {
        self.act(
            ctx,
            Action::new(AuditAction::ListConversations),
            async |_| self.store.list(&ctx.principal.sub, page).await,
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

    pub(super) async fn owned(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
    ) -> Result<Conversation> {
        self.store
            .get(&ctx.principal.sub, id)
            .await?
            .ok_or_else(|| Error::not_found("conversation"))
    }
}
