//! One turn of a conversation: the checks and the prompt before the model call, and what is
//! stored after it.

use super::Link;
use super::guard::AuditGuard;
use crate::{
    ChatRequest, ConversationId, ConversationStore, Error, Message, Persona, RequestContext,
    Result, Role, StopReason,
};

/// A turn that passed every check and is ready for the model.
pub(super) struct PreparedTurn {
    pub(super) request: ChatRequest,
    pub(super) user: Message,
    pub(super) persona: Persona,
}

impl Link {
    /// Validates the message, reads the conversation and its window of history, and builds
    /// the prompt.
    pub(super) async fn prepare_turn(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        content: &str,
        audit: &mut AuditGuard,
    ) -> Result<PreparedTurn> {
        let content = self.validate_message(content)?;
        audit.prompt(content);
        let conversation = self.owned(ctx, id).await?;
        let window = Some(self.limits.history_window);
        let mut history = self.store.messages(&ctx.principal.sub, id, window).await?;
        let user = Message::new(Role::User, content);
        history.push(user.clone());
        audit.model(self.model.model_id());
        let style = self.model.prompt_style();
        let request = self
            .prompt
            .build_styled(style, &conversation.persona, &history);
        Ok(PreparedTurn {
            request,
            user,
            persona: conversation.persona,
        })
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
}

/// Stores the user's message and the reply, in that order, in one write.
pub(super) async fn persist_turn(
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
