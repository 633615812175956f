//! The storage caps: before a write adds to the store, the caller's usage plus what the
//! write adds is checked against [`EngineLimits`](super::EngineLimits). A refused write
//! stores nothing; the action fails (and is audited) with [`Error::Forbidden`].

use super::Link;
use crate::{ConversationId, Error, Message, RequestContext, Result, StoreUsage};

/// What a write adds to the caller's store.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Growth {
    /// The conversation it adds messages to, or `None` for a new conversation.
    conversation: Option<ConversationId>,
    /// How many messages it adds to that conversation.
    messages: usize,
    /// How many bytes of text it adds, as far as known before the model call.
    bytes: u64,
}

impl Growth {
    /// A new conversation holding `messages` (creating, forking).
    pub(super) fn new_conversation(messages: &[Message]) -> Self {
        Self {
            conversation: None,
            messages: messages.len(),
            bytes: StoreUsage::bytes_of(messages),
        }
    }

    /// `messages` more messages and `bytes` more bytes in conversation `id`.
    pub(super) fn in_conversation(id: ConversationId, messages: usize, bytes: u64) -> Self {
        Self {
            conversation: Some(id),
            messages,
            bytes,
        }
    }
}

impl Link {
    /// Refuses `growth` if it would take the caller over a storage cap.
    pub(super) async fn check_caps(&self, ctx: &RequestContext, growth: Growth) -> Result<()> {
        let limits = &self.limits;
        let capped = limits.max_conversations_per_user > 0
            || limits.max_messages_per_conversation > 0
            || limits.max_stored_bytes_per_user > 0;
        if !capped {
            return Ok(());
        }
        let usage = self
            .store
            .usage(&ctx.principal.sub, growth.conversation)
            .await?;
        self.check_usage(&usage, growth)
    }

    /// [`check_caps`](Self::check_caps) against a `usage` already read (a turn's, read with
    /// its conversation).
    pub(super) fn check_usage(&self, usage: &StoreUsage, growth: Growth) -> Result<()> {
        self.refusal(usage, growth).map_or(Ok(()), Err)
    }

    /// The error for the first cap `growth` breaks, given the caller's `usage`.
    fn refusal(&self, usage: &StoreUsage, growth: Growth) -> Option<Error> {
        let limits = &self.limits;
        let max = limits.max_conversations_per_user;
        if growth.conversation.is_none() && max > 0 && usage.conversations >= max {
            let used = usage.conversations;
            return Some(cap_reached(
                format!("conversations per user: {used} of {max}"),
                "delete conversations to start new ones",
            ));
        }
        let max = limits.max_messages_per_conversation;
        if growth.messages > 0 && max > 0 && usage.messages.saturating_add(growth.messages) > max {
            let used = usage.messages;
            return Some(cap_reached(
                format!("messages in this conversation: {used} of {max}"),
                "rewind it or start another conversation",
            ));
        }
        // Every write that grows the store adds at least one byte (a reply still to come,
        // when nothing else is known), so a user at the cap can add nothing.
        let max = limits.max_stored_bytes_per_user;
        if max > 0 && usage.bytes.saturating_add(growth.bytes.max(1)) > max {
            let used = usage.bytes;
            return Some(cap_reached(
                format!("bytes of messages per user: {used} of {max}"),
                "delete conversations to make room",
            ));
        }
        None
    }
}

/// The refusal: which cap, how full it is, and what the user can do about it.
fn cap_reached(cap: String, remedy: &str) -> Error {
    Error::Forbidden {
        reason: format!("storage limit reached ({cap}); {remedy}"),
    }
}
