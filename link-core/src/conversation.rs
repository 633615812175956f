//! Conversations and their stored messages.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{ConversationId, MessageId, Persona, Role};

/// A conversation between one user and one character.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// The owner's subject; only the owner can see it.
    pub owner: String,
    /// The character being played.
    pub persona: Persona,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When a message was last added.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Conversation {
    /// A new conversation owned by `owner`, created now.
    pub fn new(owner: impl Into<String>, persona: Persona) -> Self {
        let now = now();
        Self {
            id: ConversationId::new(),
            owner: owner.into(),
            persona,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// Who wrote it.
    pub role: Role,
    /// Its text.
    pub content: String,
    /// When it was stored.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Message {
    /// A new message, stamped now.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            id: MessageId::new(),
            role,
            content: content.into(),
            created_at: now(),
        }
    }
}

/// The current time in UTC, truncated to microseconds so it survives a database round trip.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}
