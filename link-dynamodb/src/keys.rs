//! The key schema of the one table: every key of an owner's data starts with the owner, so
//! every read is owner-scoped by construction.
//!
//! | item | `PK` | `SK` | index `updated` (`GSI1PK`, `GSI1SK`) |
//! |---|---|---|---|
//! | conversation | `O#{owner}` | `C#{conversation}` | `O#{owner}`, `{updated_at nanos, padded}#{conversation}` |
//! | avatar part | `O#{owner}` | `C#{conversation}#A#{part, two digits}` | — |
//! | message | `O#{owner}` | `C#{conversation}#M#{message}` | — |
//! | token tally | `O#{owner}` | `T#{YYYY-MM}#{conversation}` | — |
//! | user persona | `O#{owner}` | `U` | — |
//! | owner's totals (conversations, bytes) | `O#{owner}` | `S` | — |
//! | id guard | `ID#{conversation}` | `ID` | — |

use link_core::{ConversationId, MessageId, Month};

/// The partition key attribute.
pub(crate) const PK: &str = "PK";
/// The sort key attribute.
pub(crate) const SK: &str = "SK";
/// The partition key of the `updated` index: set on conversation items only (a sparse index).
pub(crate) const GSI1PK: &str = "GSI1PK";
/// The sort key of the `updated` index.
pub(crate) const GSI1SK: &str = "GSI1SK";
/// The index that lists an owner's conversations by their last update.
pub(crate) const UPDATED_INDEX: &str = "updated";
/// The attribute DynamoDB's time to live reads (epoch seconds).
pub(crate) const TTL: &str = "expires";

/// Added to nanosecond times so that they sort as fixed-width non-negative text.
const NANOS_OFFSET: i128 = 10_i128.pow(30);

/// The partition of `owner`'s items.
pub(crate) fn owner(owner: &str) -> String {
    format!("O#{owner}")
}

/// The sort key of a conversation item.
pub(crate) fn conversation(id: ConversationId) -> String {
    format!("C#{id}")
}

/// The prefix of every message key of a conversation.
pub(crate) fn messages(id: ConversationId) -> String {
    format!("C#{id}#M#")
}

/// The sort key of a message item: its UUIDv7 text sorts by creation time.
pub(crate) fn message(id: ConversationId, message: MessageId) -> String {
    format!("C#{id}#M#{message}")
}

/// Above every message key of a conversation (`~` sorts after hex digits and `-`).
pub(crate) fn messages_end(id: ConversationId) -> String {
    format!("C#{id}#M#~")
}

/// The sort key of part `part` of a conversation's avatar. The parts sort between the
/// conversation item and its messages, so one query reads the conversation and its avatar.
pub(crate) fn avatar_part(id: ConversationId, part: usize) -> String {
    format!("C#{id}#A#{part:02}")
}

/// Above every avatar part of a conversation, and below its messages.
pub(crate) fn avatar_end(id: ConversationId) -> String {
    format!("C#{id}#A#~")
}

/// The prefix of an owner's token tallies of `month`.
pub(crate) fn tallies(month: Month) -> String {
    format!("T#{month}#")
}

/// The sort key of one conversation's token tally of `month`.
pub(crate) fn tally(month: Month, id: ConversationId) -> String {
    format!("T#{month}#{id}")
}

/// The sort key of an owner's user persona.
pub(crate) const USER_PERSONA: &str = "U";

/// The sort key of an owner's totals: how many conversations they have and the bytes of all
/// their messages, kept by every write so that the storage caps read one item.
pub(crate) const TOTALS: &str = "S";

/// The partition key of the guard that keeps conversation ids unique across owners.
pub(crate) fn guard(id: ConversationId) -> String {
    format!("ID#{id}")
}

/// The sort key of an id guard.
pub(crate) const GUARD: &str = "ID";

/// The `updated` index's sort key: the update time, then the id (ties: the newer id first
/// when read in reverse).
pub(crate) fn updated(nanos: i128, id: ConversationId) -> String {
    format!("{:032}#{id}", nanos.saturating_add(NANOS_OFFSET).max(0))
}

/// The time (nanoseconds) an `updated` index key holds.
pub(crate) fn updated_nanos(key: &str) -> Option<i128> {
    let (padded, _) = key.split_once('#')?;
    Some(padded.parse::<i128>().ok()? - NANOS_OFFSET)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn updated_keys_sort_by_time_then_id() {
        let a = ConversationId::new();
        let b = ConversationId::new();
        assert!(updated(-5, b) < updated(3, a));
        assert!(updated(3, a) < updated(3, b));
        assert!(updated(9, a) < updated(10, a));
    }

    #[test]
    fn message_keys_sort_by_creation() {
        let c = ConversationId::new();
        let first = MessageId::new();
        let second = MessageId::new();
        assert!(message(c, first) < message(c, second));
        assert!(message(c, second) < messages_end(c));
        assert!(message(c, first).starts_with(&messages(c)));
    }

    #[test]
    fn an_updated_key_gives_its_time_back() {
        let id = ConversationId::new();
        for nanos in [0, 1_764_820_000_123_456_789, -5] {
            assert_eq!(updated_nanos(&updated(nanos, id)), Some(nanos));
        }
        assert_eq!(updated_nanos("not a key"), None);
    }

    #[test]
    fn avatar_parts_sort_after_the_conversation_and_before_its_messages() {
        let c = ConversationId::new();
        assert!(conversation(c) < avatar_part(c, 0));
        assert!(avatar_part(c, 0) < avatar_part(c, 1));
        assert!(avatar_part(c, 9) < avatar_part(c, 10));
        assert!(avatar_part(c, 99) < avatar_end(c));
        assert!(avatar_end(c) < messages(c));
    }
}
