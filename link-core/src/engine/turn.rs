//! One turn of a conversation: the checks and the prompt before the model call, and what is
//! stored after it.

use super::Link;
use super::caps::Growth;
use super::commit::Commit;
use super::guard::AuditGuard;
use super::options::{MAX_INSTRUCTIONS_CHARS, TurnOptions};
use super::summarise::Departed;
use crate::lorebook::MacroNames;
use crate::user_persona::{DEFAULT_USER_NAME, expand_persona};
use crate::{
    ChatRequest, Conversation, ConversationId, Error, Message, Persona, RequestContext, Result,
    Role, StopReason, Usage, UserPersona, prompt::ContextFit,
};

/// A turn that passed every check and is ready for the model.
pub(super) struct PreparedTurn {
    pub(super) request: ChatRequest,
    pub(super) commit: Commit,
    pub(super) persona: Persona,
    /// The turns that left the prompt's window and are not in the memory yet: summarised
    /// once the reply is stored.
    pub(super) departed: Option<Departed>,
}

impl Link {
    /// Validates the message, reads the conversation and its window of history, and builds
    /// the prompt.
    pub(super) async fn prepare_turn(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
        options: &TurnOptions,
        audit: &mut AuditGuard,
    ) -> Result<PreparedTurn> {
        let content = self.validate_message(content)?;
        self.validate_options(options)?;
        // The user's instructions are the user's words too: moderated with the message.
        match options.user_instructions() {
            Some(instructions) => {
                (self.moderate_input(&format!("{instructions}\n\n{content}"))).await?;
            }
            None => self.moderate_input(content).await?,
        }
        audit.prompt(content);
        // One read for the conversation, its window, the caps' usage and who the user is.
        let window = self.limits.history_window;
        let state = (self.store)
            .turn_state(&ctx.principal.sub, id, window)
            .await?;
        let added = u64::try_from(content.len()).unwrap_or(u64::MAX);
        self.check_usage(&state.usage, Growth::in_conversation(id, 2, added))?;
        let (conversation, mut history) = (state.conversation, state.messages);
        let whole = history.len() < window;
        let user = Message::new(Role::User, content);
        history.push(user.clone());
        let who = state.user_persona.as_ref();
        let (request, departed) =
            self.request_as(&conversation, who, &history, whole, options, audit)?;
        Ok(PreparedTurn {
            request,
            commit: Commit::Turn { user },
            persona: conversation.persona,
            departed,
        })
    }

    /// The model input for `history` (oldest first; the `whole` conversation or its newest
    /// part) in `conversation`: the persona with its card macros filled in, its memory, who
    /// the user is, and the history fitted to the budget; and the turns that left the window
    /// for the memory.
    pub(super) async fn request_for(
        &self,
        ctx: &RequestContext,
        conversation: &Conversation,
        history: &[Message],
        whole: bool,
        audit: &mut AuditGuard,
    ) -> Result<(ChatRequest, Option<Departed>)> {
        let options = TurnOptions::default();
        self.request_with(ctx, conversation, history, whole, &options, audit)
            .await
    }

    /// [`request_for`](Self::request_for) with a turn's `options`: its sampling settings
    /// within the engine's, and the user's instructions framed as data after Link's rules.
    pub(super) async fn request_with(
        &self,
        ctx: &RequestContext,
        conversation: &Conversation,
        history: &[Message],
        whole: bool,
        options: &TurnOptions,
        audit: &mut AuditGuard,
    ) -> Result<(ChatRequest, Option<Departed>)> {
        let user = self.user_persona_in(ctx, conversation).await?;
        self.request_as(conversation, user.as_ref(), history, whole, options, audit)
    }

    /// [`request_with`](Self::request_with) for a `user` already known.
    fn request_as(
        &self,
        conversation: &Conversation,
        user: Option<&UserPersona>,
        history: &[Message],
        whole: bool,
        options: &TurnOptions,
        audit: &mut AuditGuard,
    ) -> Result<(ChatRequest, Option<Departed>)> {
        audit.model(self.model.model_id());
        let user_name = user.map_or(DEFAULT_USER_NAME, |u| u.name.as_str());
        let persona = expand_persona(&conversation.persona, user_name);
        let style = self.model.prompt_style();
        let mut extra = user.map(UserPersona::prompt_block).unwrap_or_default();
        extra.push_str(&options.instructions_block());
        // Fitted to the model's window by the model's count; regenerating the greeting (no
        // turn yet) gets the opening turn to answer.
        let fit = ContextFit::of(&*self.model);
        if let Some(book) = &conversation.persona.lorebook {
            let names = MacroNames::new(user_name, &persona.name);
            extra.push_str(&book.prompt_block(history, &fit, names));
        }
        let memory = &conversation.memory;
        let mut fitted =
            (self.prompt).build_remembering(style, &persona, memory, history, &extra, &fit)?;
        fitted.request.params = options.apply(fitted.request.params);
        let batch = self.summariser.settings.batch_messages;
        let departed = Departed::of(conversation, history, fitted.kept_from, whole, batch);
        Ok((fitted.request, departed))
    }

    /// Refuses instructions longer than [`MAX_INSTRUCTIONS_CHARS`].
    pub(super) fn validate_options(&self, options: &TurnOptions) -> Result<()> {
        let chars = options.user_instructions().map_or(0, |i| i.chars().count());
        if chars > MAX_INSTRUCTIONS_CHARS {
            return Err(Error::invalid(format!(
                "the instructions are too long: at most {MAX_INSTRUCTIONS_CHARS} characters"
            )));
        }
        Ok(())
    }

    /// Who the user is in `conversation`: its override, else the owner's default.
    pub(super) async fn user_persona_in(
        &self,
        ctx: &RequestContext,
        conversation: &Conversation,
    ) -> Result<Option<UserPersona>> {
        match &conversation.user_persona {
            Some(persona) => Ok(Some(persona.clone())),
            None => self.store.user_persona(&ctx.principal.sub).await,
        }
    }

    /// Stores a finished reply as `commit` says, with the tokens it cost (`usage`), returning
    /// it as stored.
    pub(super) async fn commit_reply(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        commit: &Commit,
        text: String,
        usage: Option<Usage>,
    ) -> Result<Message> {
        let (splice, reply) = commit.with_reply(text, usage);
        self.store.splice(&ctx.principal.sub, id, &splice).await?;
        Ok(reply)
    }

    /// `content` if it is not empty and not longer than [`max_message_chars`](Self::max_message_chars).
    pub(super) fn validate_message<'a>(&self, content: &'a str) -> Result<&'a str> {
        if content.trim().is_empty() {
            return Err(Error::invalid("the message is empty"));
        }
        let max_chars = self.max_message_chars();
        if content.chars().count() > max_chars {
            return Err(Error::MessageTooLong { max_chars });
        }
        Ok(content)
    }

    /// The longest message this engine accepts, in characters: its configured limit, or less
    /// when the chat model's context window cannot hold that much with the reply's room. Each
    /// turn's exact fit may still refuse a message under it (the persona and the rules take
    /// room too), with the exact limit.
    pub fn max_message_chars(&self) -> usize {
        let fit = ContextFit::of(&*self.model);
        self.limits
            .max_message_chars
            .min(fit.max_message_chars(self.prompt.generation_params()))
    }
}

/// A stop reason that means the reply must not be shown as the character's words.
pub(super) fn blocked(stop_reason: &StopReason, text: &str) -> Result<()> {
    match stop_reason {
        StopReason::GuardrailIntervened => Err(Error::GuardrailBlocked {
            message: text.to_owned(),
        }),
        // The filtered text is what must not be shown: it stays out of the error (and so out
        // of responses and logs); the audit event keeps it under the content policy.
        StopReason::ContentFiltered => Err(Error::ContentFiltered {
            message: "the provider's content filter stopped the reply".to_owned(),
        }),
        _ => Ok(()),
    }
}
