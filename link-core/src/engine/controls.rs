//! The chat controls: regenerate a reply (keeping the earlier ones as alternatives), choose
//! an alternative, edit a message, edit and resend a user message, rewind, and fork.
//!
//! Each is one action (one audit event, rate limited, owner scoped) whose change to the
//! messages is one [`Splice`]: all of it lands or none does. Those that generate check that
//! the conversation's newest message is still the one they read, so two clients regenerating
//! at once get one result and one [`Error::Conflict`].

use super::action::Action;
use super::caps::Growth;
use super::commit::Commit;
use super::guard::AuditGuard;
use super::turn::PreparedTurn;
use super::{ConversationDetail, Link, Reply, TurnStream};
use crate::{
    AuditAction, Conversation, ConversationId, ConversationPatch, Error, Message, MessageId,
    RequestContext, Result, Role, Splice, StoreUsage,
};

/// Which messages a [`Link::rewind`] removes. The conversation's first message (the greeting)
/// always stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewind {
    /// The newest `n` turns: each user message from the `n`-th newest on, and everything after.
    Turns(usize),
    /// Everything after this message.
    After(MessageId),
}

impl Link {
    /// A new version of the conversation's last reply, which becomes the chosen one; the
    /// earlier versions stay as alternatives. If the newest message is the user's (a reply that
    /// was never stored), the reply is generated and appended.
    pub async fn regenerate(&self, ctx: &RequestContext, id: ConversationId) -> Result<Reply> {
        let action = Action::new(AuditAction::RegenerateReply);
        let prepare = async |audit: &mut AuditGuard| self.prepare_regenerate(ctx, id, audit).await;
        Ok(self.generate(ctx, id, action, prepare).await?.0)
    }

    /// [`regenerate`](Self::regenerate), streamed. A dropped stream changes nothing.
    pub async fn regenerate_stream(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
    ) -> Result<TurnStream> {
        let action = Action::new(AuditAction::RegenerateReply);
        let prepare = async |audit: &mut AuditGuard| self.prepare_regenerate(ctx, id, audit).await;
        self.generate_stream(ctx, id, action, prepare).await
    }

    /// Replaces the text of the user's message `message` and has the character answer it
    /// again: the messages after it are removed and the new reply appended, in one write.
    pub async fn resend(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        message: MessageId,
        content: &str,
    ) -> Result<Reply> {
        let action = Action::new(AuditAction::ResendMessage).with_input(content);
        let prepare = async |audit: &mut AuditGuard| {
            self.prepare_resend(ctx, id, message, content, audit).await
        };
        Ok(self.generate(ctx, id, action, prepare).await?.0)
    }

    /// [`resend`](Self::resend), streamed. A dropped stream changes nothing: the old message
    /// and the turns after it stay.
    pub async fn resend_stream(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        message: MessageId,
        content: &str,
    ) -> Result<TurnStream> {
        let action = Action::new(AuditAction::ResendMessage).with_input(content);
        let prepare = async |audit: &mut AuditGuard| {
            self.prepare_resend(ctx, id, message, content, audit).await
        };
        self.generate_stream(ctx, id, action, prepare).await
    }

    /// Chooses the version at `index` of message `message` (0 is the oldest); later prompts
    /// see it. Returns the message as stored.
    pub async fn choose_alternative(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        message: MessageId,
        index: usize,
    ) -> Result<Message> {
        let action = Action::new(AuditAction::ChooseAlternative).on(id);
        self.act(ctx, action, async |_| {
            let mut target = self.message(ctx, id, message).await?;
            target.choose(index)?;
            self.replace(ctx, id, target).await
        })
        .await
    }

    /// Replaces the text of message `message` (the user's or the character's) without
    /// generating anything. Returns the message as stored.
    pub async fn edit_message(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        message: MessageId,
        content: &str,
    ) -> Result<Message> {
        let action = Action::new(AuditAction::EditMessage)
            .on(id)
            .with_input(content);
        self.act(ctx, action, async |audit| {
            let content = self.validate_message(content)?;
            self.moderate_input(content).await?;
            audit.prompt(content);
            let mut target = self.message(ctx, id, message).await?;
            let before = StoreUsage::message_bytes(&target);
            target.edit(content);
            let added = StoreUsage::message_bytes(&target).saturating_sub(before);
            if added > 0 {
                self.check_caps(ctx, Growth::in_conversation(id, 0, added))
                    .await?;
            }
            self.replace(ctx, id, target).await
        })
        .await
    }

    /// Removes the newest turns (see [`Rewind`]) and returns how many messages went.
    pub async fn rewind(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        rewind: Rewind,
    ) -> Result<usize> {
        let action = Action::new(AuditAction::Rewind).on(id);
        self.act(ctx, action, async |_| {
            let messages = self.store.messages(&ctx.principal.sub, id, None).await?;
            let keep = kept_by(&messages, rewind)?;
            let (Some(kept), Some(last)) = (messages.get(keep.wrapping_sub(1)), messages.last())
            else {
                return Ok(0);
            };
            if keep == messages.len() {
                return Ok(0);
            }
            let splice = Splice::default().keep_through(kept.id).expect_last(last.id);
            self.store.splice(&ctx.principal.sub, id, &splice).await?;
            // The rewind is done: a memory that could not be cleared (a summary landed
            // meanwhile) is started over by the next summary, which finds its message gone.
            if let Err(error) = self.forget_rewound(ctx, id, &messages[keep..]).await {
                tracing::warn!(%error, "the memory of a rewound conversation was not cleared");
            }
            Ok(messages.len() - keep)
        })
        .await
    }

    /// A new conversation with the same persona, user persona and avatar holding copies of
    /// the messages up to and including `through` (all of them when `None`), with its origin.
    pub async fn fork(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        through: Option<MessageId>,
    ) -> Result<ConversationDetail> {
        let action = Action::new(AuditAction::ForkConversation).on(id);
        self.act(ctx, action, async |_| {
            let source = self.owned(ctx, id).await?;
            let messages = self.store.messages(&ctx.principal.sub, id, None).await?;
            let end = match through {
                Some(through) => position(&messages, through)? + 1,
                None => messages.len(),
            };
            let last = messages[..end]
                .last()
                .ok_or_else(|| Error::invalid("the conversation has no messages to fork"))?;
            let mut fork = source.fork_at(last.id);
            let copies: Vec<Message> = messages[..end].iter().map(Message::copied).collect();
            carry_summary(&source, &messages[..end], &copies, &mut fork);
            self.check_caps(ctx, Growth::new_conversation(&copies))
                .await?;
            self.store.create(&fork, &copies).await?;
            if let Some(avatar) = self.store.avatar(&ctx.principal.sub, id).await? {
                self.attach_avatar(ctx, fork.id, avatar).await?;
            }
            Ok(ConversationDetail {
                conversation: fork,
                messages: copies,
            })
        })
        .await
    }

    async fn prepare_regenerate(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        audit: &mut AuditGuard,
    ) -> Result<PreparedTurn> {
        let conversation = self.owned(ctx, id).await?;
        let window = Some(self.limits.history_window + 1);
        let mut history = self.store.messages(&ctx.principal.sub, id, window).await?;
        let whole = history.len() < self.limits.history_window + 1;
        let last = history
            .last()
            .cloned()
            .ok_or_else(|| Error::invalid("the conversation has no message to regenerate"))?;
        let base = Splice::default().expect_last(last.id);
        let target = match last.role {
            Role::Assistant => history.pop(),
            Role::User => None,
        };
        // A new version of the reply adds only text; a missing reply adds a message.
        let added = usize::from(target.is_none());
        self.check_caps(ctx, Growth::in_conversation(id, added, 0))
            .await?;
        let (request, departed) = self
            .request_for(ctx, &conversation, &history, whole, audit)
            .await?;
        Ok(PreparedTurn {
            request,
            commit: Commit::Rewrite { base, target },
            persona: conversation.persona,
            departed,
        })
    }

    async fn prepare_resend(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        message: MessageId,
        content: &str,
        audit: &mut AuditGuard,
    ) -> Result<PreparedTurn> {
        let content = self.validate_message(content)?;
        self.moderate_input(content).await?;
        audit.prompt(content);
        let conversation = self.owned(ctx, id).await?;
        let mut history = self.store.messages(&ctx.principal.sub, id, None).await?;
        let last = history.last().map(|m| m.id);
        let at = position(&history, message)?;
        if history[at].role != Role::User {
            return Err(Error::invalid(
                "only a user message can be sent again; edit the character's message instead",
            ));
        }
        let removed = history.len() - (at + 1);
        history.truncate(at + 1);
        let before = StoreUsage::message_bytes(&history[at]);
        history[at].edit(content);
        let edited = history[at].clone();
        // The reply replaces the removed messages: it adds one only when none follows.
        let added = StoreUsage::message_bytes(&edited).saturating_sub(before);
        let growth = Growth::in_conversation(id, 1usize.saturating_sub(removed), added);
        self.check_caps(ctx, growth).await?;
        let window = history.len().saturating_sub(self.limits.history_window);
        let (request, departed) = self
            .request_for(ctx, &conversation, &history[window..], window == 0, audit)
            .await?;
        let mut base = Splice::default().keep_through(message).replace(edited);
        base.expect_last = last;
        Ok(PreparedTurn {
            request,
            commit: Commit::Rewrite { base, target: None },
            persona: conversation.persona,
            departed,
        })
    }

    /// One message of the caller's conversation.
    async fn message(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        message: MessageId,
    ) -> Result<Message> {
        let messages = self.store.messages(&ctx.principal.sub, id, None).await?;
        let at = position(&messages, message)?;
        Ok(messages[at].clone())
    }

    async fn replace(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        message: Message,
    ) -> Result<Message> {
        let splice = Splice::default().replace(message.clone());
        self.store.splice(&ctx.principal.sub, id, &splice).await?;
        Ok(message.stored_revision())
    }
}

impl Link {
    /// Clears the memory's summary if it covers a message a rewind removed (it would recall
    /// turns that no longer happened); the next summary starts again from the start. The
    /// pinned facts stay.
    async fn forget_rewound(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        removed: &[Message],
    ) -> Result<()> {
        let conversation = self.owned(ctx, id).await?;
        let memory = &conversation.memory;
        let Some(covered) = memory.covered_through else {
            return Ok(());
        };
        if !removed.iter().any(|m| m.id == covered) {
            return Ok(());
        }
        let patch = ConversationPatch::default().forget_summary(memory.revision);
        self.store.update(&ctx.principal.sub, id, &patch).await?;
        Ok(())
    }
}

/// Gives a fork the source's summary when it covers a message the fork copied (now covering
/// that message's copy); a summary that covers later messages would recall what the fork
/// never had, so the fork starts without one.
fn carry_summary(
    source: &Conversation,
    copied: &[Message],
    copies: &[Message],
    fork: &mut Conversation,
) {
    let memory = &source.memory;
    let Some(covered) = memory.covered_through else {
        return;
    };
    if let Some(at) = copied.iter().position(|m| m.id == covered) {
        fork.memory.summary.clone_from(&memory.summary);
        fork.memory.covered_through = copies.get(at).map(|m| m.id);
    }
}

/// How many messages from the start a rewind keeps (at least the first).
fn kept_by(messages: &[Message], rewind: Rewind) -> Result<usize> {
    let keep = match rewind {
        Rewind::After(id) => position(messages, id)? + 1,
        Rewind::Turns(0) => messages.len(),
        Rewind::Turns(n) => messages
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, m)| m.role == Role::User)
            .nth(n - 1)
            .map_or(0, |(i, _)| i),
    };
    Ok(keep.max(1).min(messages.len()))
}

fn position(messages: &[Message], id: MessageId) -> Result<usize> {
    messages
        .iter()
        .position(|m| m.id == id)
        .ok_or_else(|| Error::not_found("message"))
}
