//! Turns on history the caller brings (what a stateless OpenAI client sends): the
//! conversation gives the persona and who the user is, the caller's messages are the history,
//! and nothing is stored but the tokens the reply cost. Admission, validation, moderation,
//! the prompt with Link's rules, guardrails and audit are those of any other turn.

use super::action::Action;
use super::commit::Commit;
use super::guard::AuditGuard;
use super::options::TurnOptions;
use super::turn::PreparedTurn;
use super::{Link, Reply, TurnStream};
use crate::{
    AuditAction, ChatMessage, ConversationId, Error, Message, RequestContext, Result, Role,
};

impl Link {
    /// The character of conversation `id` replies to `history` (oldest first, ending with
    /// the user's newest message); nothing is stored except the tokens it cost. Every user
    /// turn of `history` is the caller's input (moderated as such); the last one must be the
    /// user's and passes the checks a sent message passes.
    pub async fn reply_detached(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        history: &[ChatMessage],
        options: &TurnOptions,
    ) -> Result<Reply> {
        let input = last_user_text(history);
        let action = Action::new(AuditAction::SendMessage).with_input(input);
        self.generate(ctx, id, action, async |audit| {
            self.prepare_detached(ctx, id, history, options, audit)
                .await
        })
        .await
        .map(|(reply, _)| reply)
    }

    /// [`reply_detached`](Self::reply_detached) as a stream (see
    /// [`send_stream`](Self::send_stream)); a dropped stream stores nothing.
    pub async fn stream_detached(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        history: &[ChatMessage],
        options: &TurnOptions,
    ) -> Result<TurnStream> {
        let input = last_user_text(history);
        let action = Action::new(AuditAction::StreamMessage).with_input(input);
        self.generate_stream(ctx, id, action, async |audit| {
            self.prepare_detached(ctx, id, history, options, audit)
                .await
        })
        .await
    }

    async fn prepare_detached(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        history: &[ChatMessage],
        options: &TurnOptions,
        audit: &mut AuditGuard,
    ) -> Result<PreparedTurn> {
        let last = match history.last() {
            Some(last) if last.role == Role::User => last,
            _ => return Err(Error::invalid("the last message must be the user's")),
        };
        let content = self.validate_message(&last.content)?;
        self.validate_options(options)?;
        // Every user turn and the user's instructions are the caller's words.
        let said: Vec<&str> = (options.user_instructions().into_iter())
            .chain(
                history
                    .iter()
                    .filter(|m| m.role == Role::User)
                    .map(|m| m.content.as_str()),
            )
            .collect();
        self.moderate_input(&said.join("\n\n")).await?;
        audit.prompt(content);
        let conversation = self.owned(ctx, id).await?;
        let messages: Vec<Message> = (history.iter())
            .map(|m| Message::new(m.role, m.content.clone()))
            .collect();
        // Nothing of a detached turn is stored, so nothing leaves a window for the memory.
        let (request, _) = self
            .request_with(ctx, &conversation, &messages, true, options, audit)
            .await?;
        Ok(PreparedTurn {
            request,
            commit: Commit::Detached,
            persona: conversation.persona,
            departed: None,
        })
    }
}

/// The text of the last user turn of `history` (empty without one): what the audit event
/// records as the action's input.
fn last_user_text(history: &[ChatMessage]) -> &str {
    (history.iter().rev())
        .find(|m| m.role == Role::User)
        .map_or("", |m| m.content.as_str())
}
