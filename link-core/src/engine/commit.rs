//! What storing a generated reply means for each kind of action, and what a dropped stream
//! keeps: a new turn keeps what was said; a rewrite (regenerate, edit and resend) is all or
//! nothing, so a conversation is always in its state before or after, never a mix.

use crate::{
    ConversationId, ConversationStore, Message, Month, Role, Splice, TokenTally, Usage, now,
};

/// How a reply is stored.
#[derive(Debug, Clone)]
pub(super) enum Commit {
    /// A new turn: the user's message and the reply are appended together.
    Turn {
        /// The user's message.
        user: Message,
    },
    /// A rewrite of the conversation's end: `base` plus the reply, which becomes a new version
    /// of `target` (regenerate) or is appended (a reply to a user message that has none yet).
    Rewrite {
        /// The checks and changes the reply goes with.
        base: Splice,
        /// The message the reply is a new version of.
        target: Option<Message>,
    },
    /// A turn on history the caller brought (a stateless client): no message is stored, only
    /// the tokens it cost are tallied.
    Detached,
}

impl Commit {
    /// The splice that stores a finished reply, with the tokens the model reported for it
    /// (`usage`) added to this month's tally in the same write, and the reply as stored.
    pub(super) fn with_reply(&self, text: String, usage: Option<Usage>) -> (Splice, Message) {
        let (splice, reply) = self.reply_splice(text);
        (with_tokens(splice, usage), reply)
    }

    fn reply_splice(&self, text: String) -> (Splice, Message) {
        match self {
            Commit::Turn { user } => {
                let reply = Message::new(Role::Assistant, text);
                let splice = Splice::default().append(user.clone()).append(reply.clone());
                (splice, reply)
            }
            Commit::Rewrite { base, target } => match target {
                Some(target) => {
                    let mut reply = target.clone();
                    reply.add_alternative(text);
                    (base.clone().replace(reply.clone()), reply.stored_revision())
                }
                None => {
                    let reply = Message::new(Role::Assistant, text);
                    (base.clone().append(reply.clone()), reply)
                }
            },
            Commit::Detached => (Splice::default(), Message::new(Role::Assistant, text)),
        }
    }

    /// What a stream dropped after `partial` was said keeps, if anything: a new turn keeps
    /// the user's message once, with the partial reply marked interrupted (so the user can
    /// regenerate it instead of sending the message again); a rewrite keeps nothing.
    pub(super) fn on_cancel(&self, partial: String) -> Option<Splice> {
        let Commit::Turn { user } = self else {
            return None;
        };
        let splice = Splice::default().append(user.clone());
        if partial.is_empty() {
            return Some(splice);
        }
        let mut reply = Message::new(Role::Assistant, partial);
        reply.interrupted = true;
        Some(splice.append(reply))
    }
}

/// `splice` with `usage` (if the model reported any) added to this month's tally.
fn with_tokens(splice: Splice, usage: Option<Usage>) -> Splice {
    match usage {
        Some(usage) => splice.tokens(Month::of(now()), TokenTally::of(usage)),
        None => splice,
    }
}

/// Tallies what a reply that is not stored (blocked by a guardrail or a content filter)
/// still cost, with a splice that changes no message. A failure is logged, not returned: the
/// caller is already failing with the reason the reply was not stored.
pub(super) async fn tally_unstored(
    store: &dyn ConversationStore,
    owner: &str,
    id: ConversationId,
    usage: Option<Usage>,
) {
    let Some(usage) = usage else {
        return;
    };
    let splice = with_tokens(Splice::default(), Some(usage));
    if let Err(error) = store.splice(owner, id, &splice).await {
        tracing::error!(%error, "the tokens of a reply that was not stored were not tallied");
    }
}
