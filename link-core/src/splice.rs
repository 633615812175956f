//! [`Splice`]: one atomic change to a conversation's messages, the store operation behind
//! regenerate, edit, rewind and the dropped-stream cases.

use crate::{Error, Message, MessageId, Month, Result, TokenTally};

/// One atomic change to a conversation's messages: cut everything after one message,
/// rewrite some of the rest in place, append new ones, all or nothing.
///
/// A store applies it in this order, in one transaction (or one conditional multi-item
/// write), and changes nothing if any check fails:
/// 1. the conversation must be the owner's ([`Error::NotFound`](crate::Error::NotFound));
/// 2. if `expect_last` is set, the newest message must be that one
///    ([`Error::Conflict`](crate::Error::Conflict)): another request changed the conversation
///    since the caller read it;
/// 3. `keep_through` and every message of `replace` must be in the conversation, and no
///    replaced message may be after `keep_through` ([`Error::NotFound`](crate::Error::NotFound)
///    for `"message"`);
/// 4. every message of `replace` must carry the [`revision`](Message::revision) stored now
///    ([`Error::Conflict`](crate::Error::Conflict): someone else rewrote it first);
/// 5. the messages after `keep_through` are deleted, those of `replace` overwritten (all but
///    the id, role and `created_at`) with their revision plus one, those of `append` added at
///    the end, in order;
/// 6. `updated_at` moves to the newest of `append`'s `created_at` and `replace`'s `edited_at`,
///    never backwards;
/// 7. `tokens`, if set, is added to the owner's tally for this conversation and that month
///    (see [`ConversationStore::token_usage`](crate::ConversationStore::token_usage)), in the
///    same write: a turn and what it cost are stored together or not at all.
///
/// ```
/// use link_core::{Message, Role, Splice};
/// let reply = Message::new(Role::Assistant, "Hello.");
/// let undo = Splice::default().keep_through(reply.id).expect_last(reply.id);
/// assert!(undo.append.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Splice {
    /// The newest message the caller saw; the splice fails with a conflict if it is not the
    /// newest any more.
    pub expect_last: Option<MessageId>,
    /// Every message after this one is deleted.
    pub keep_through: Option<MessageId>,
    /// Messages overwritten in place, matched by id.
    pub replace: Vec<Message>,
    /// Messages added at the end.
    pub append: Vec<Message>,
    /// The model tokens this change cost, added to the owner's tally for this conversation
    /// and month.
    pub tokens: Option<(Month, TokenTally)>,
}

impl Splice {
    /// Fails the splice with a conflict unless `id` is still the newest message.
    pub fn expect_last(mut self, id: MessageId) -> Self {
        self.expect_last = Some(id);
        self
    }

    /// Deletes every message after `id`.
    pub fn keep_through(mut self, id: MessageId) -> Self {
        self.keep_through = Some(id);
        self
    }

    /// Overwrites `message` (matched by its id).
    pub fn replace(mut self, message: Message) -> Self {
        self.replace.push(message);
        self
    }

    /// Appends `message`.
    pub fn append(mut self, message: Message) -> Self {
        self.append.push(message);
        self
    }

    /// Adds `tally` to the owner's tokens for this conversation in `month` when the splice
    /// is applied (replacing tokens set before on this splice).
    pub fn tokens(mut self, month: Month, tally: TokenTally) -> Self {
        self.tokens = Some((month, tally));
        self
    }

    /// Whether it only appends (at least one message, with no checks, cuts or rewrites):
    /// such splices commute, so a store may apply them without reading the conversation.
    ///
    /// ```
    /// use link_core::{Message, MessageId, Role, Splice};
    /// let append = Splice::default().append(Message::new(Role::User, "Hi"));
    /// assert!(append.only_appends());
    /// assert!(!append.expect_last(MessageId::new()).only_appends());
    /// assert!(!Splice::default().only_appends());
    /// ```
    pub fn only_appends(&self) -> bool {
        !self.append.is_empty()
            && self.expect_last.is_none()
            && self.keep_through.is_none()
            && self.replace.is_empty()
    }

    /// The time `updated_at` moves to (if later than it is), if the splice adds or edits
    /// anything with a time.
    pub fn touched_at(&self) -> Option<time::OffsetDateTime> {
        let appended = self.append.iter().map(|m| m.created_at);
        let edited = self.replace.iter().filter_map(|m| m.edited_at);
        appended.chain(edited).max()
    }

    /// Applies the splice to a conversation's messages held in memory (oldest first), after
    /// the ownership check: checks 2 and 3, then the changes, all or nothing. Stores that keep
    /// messages in a list (the [`MemoryStore`](crate::MemoryStore)) use it as it is; the
    /// others follow it.
    pub fn apply_to(&self, messages: &mut Vec<Message>) -> Result<()> {
        if let Some(expected) = self.expect_last
            && messages.last().map(|m| m.id) != Some(expected)
        {
            return Err(changed_meanwhile());
        }
        let keep = match self.keep_through {
            Some(id) => position(messages, id)? + 1,
            None => messages.len(),
        };
        let mut updated = messages[..keep].to_vec();
        for message in &self.replace {
            let at = position(&updated, message.id)?;
            if updated[at].revision != message.revision {
                return Err(rewritten_meanwhile());
            }
            updated[at] = Message {
                id: updated[at].id,
                role: updated[at].role,
                created_at: updated[at].created_at,
                ..message.clone().stored_revision()
            };
        }
        if self.append.iter().any(|m| position(&updated, m.id).is_ok()) {
            return Err(Error::storage("message id already exists"));
        }
        updated.extend(self.append.iter().cloned());
        *messages = updated;
        Ok(())
    }
}

fn position(messages: &[Message], id: MessageId) -> Result<usize> {
    messages
        .iter()
        .position(|m| m.id == id)
        .ok_or_else(|| Error::not_found("message"))
}

/// The conflict of a splice whose `expect_last` is no longer the newest message.
pub fn changed_meanwhile() -> Error {
    Error::conflict("the conversation changed since it was read; read it again")
}

/// The conflict of a splice that replaces a message rewritten since it was read.
pub fn rewritten_meanwhile() -> Error {
    Error::conflict("the message was changed by another request since it was read; read it again")
}
