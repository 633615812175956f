//! What storing a generated reply means for each kind of action, and what a dropped stream
//! keeps: a new turn keeps what was said; a rewrite (regenerate, edit and resend) is all or
//! nothing, so a conversation is always in its state before or after, never a mix.

use crate::{Message, Role, Splice};

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
}

impl Commit {
    /// The splice that stores a finished reply, and the reply as stored.
    pub(super) fn with_reply(&self, text: String) -> (Splice, Message) {
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
