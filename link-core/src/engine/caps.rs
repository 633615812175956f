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
        self.refusal(&usage, growth).map_or(Ok(()), Err)
    }

    /// The error for the first cap `growth` breaks, given the caller's `usage`.
    fn refusal(&self, usage: &StoreUsage, growth: Growth) -> Option<Error> {
        let limits = &self.limits;
        let max = limits.max_conversations_per_user;
        if growth.conversation.is_none() && max > 0 && usage.conversations >= max {
            return Some(cap_reached(format!(
                "you have {} conversations, the most a user may keep; delete conversations to \
                 start new ones",
                usage.conversations
            )));
        }
        let max = limits.max_messages_per_conversation;
        let messages = usage.messages.saturating_add(growth.messages);
        if growth.messages > 0 && max > 0 && messages > max {
            return Some(cap_reached(format!(
                "a conversation may hold at most {max} messages; rewind this one or start \
                 another"
            )));
        }
        // Every write that grows the store adds at least one byte (a reply still to come,
        // when nothing else is known), so a user at the cap can add nothing.
        let max = limits.max_stored_bytes_per_user;
        if max > 0 && usage.bytes.saturating_add(growth.bytes.max(1)) > max {
            return Some(cap_reached(format!(
                "you keep {} of the {max} bytes of messages a user may store; delete \
                 conversations to make room",
                usage.bytes
            )));
        }
        None
    }
}

fn cap_reached(detail: String) -> Error {
    Error::Forbidden {
        reason: format!("storage limit reached: {detail}"),
    }
}
