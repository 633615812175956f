//! How Link's types are laid out in SQLite columns, and read back.
//!
//! Ids are their canonical UUID text (UUIDv7 text sorts by creation time), the persona is
//! JSON text, roles are their lower-case names and timestamps are UTC Unix nanoseconds, which
//! keep every `OffsetDateTime` instant exactly and compare as integers.

use link_core::{
    Conversation, ConversationId, ConversationMemory, Error, ForkOrigin, Message, MessageId,
    Persona, Result, Role, UserPersona,
};
use rusqlite::Row;
use time::OffsetDateTime;

/// A timestamp as stored. Instants outside 1677..2262 do not fit and are refused.
pub(crate) fn encode_time(t: OffsetDateTime) -> Result<i64> {
    i64::try_from(t.unix_timestamp_nanos())
        .map_err(|_| Error::invalid("timestamp outside the storable range (years 1677-2262)"))
}

/// A stored timestamp, in UTC.
pub(crate) fn decode_time(nanos: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|_| Error::storage("corrupt row: timestamp out of range"))
}

/// The persona as stored.
pub(crate) fn encode_persona(persona: &Persona) -> Result<String> {
    serde_json::to_string(persona)
        .map_err(|e| Error::storage(format!("cannot serialise the persona: {e}")))
}

fn decode_persona(json: &str) -> Result<Persona> {
    serde_json::from_str(json)
        .map_err(|e| Error::storage(format!("corrupt row: persona is not valid JSON: {e}")))
}

/// A value stored as JSON text (a user persona, a message's versions).
pub(crate) fn encode_json<T: serde::Serialize>(value: &T, what: &str) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::storage(format!("cannot serialise the {what}: {e}")))
}

/// A value stored as JSON text, or a corrupt-row error naming `what`.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T> {
    serde_json::from_str(json)
        .map_err(|e| Error::storage(format!("corrupt row: {what} is not valid JSON: {e}")))
}

/// An optional JSON column.
fn decode_json_opt<T: serde::de::DeserializeOwned>(
    json: Option<String>,
    what: &str,
) -> Result<Option<T>> {
    json.map(|json| decode_json(&json, what)).transpose()
}

fn decode_role(role: &str) -> Result<Role> {
    match role {
        "user" => Ok(Role::User),
        "assistant" => Ok(Role::Assistant),
        _ => Err(Error::storage("corrupt row: unknown message role")),
    }
}

fn decode_id<T: std::str::FromStr>(text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| Error::storage("corrupt row: malformed id"))
}

/// The raw columns of a conversation row, read without interpretation so the row closure
/// stays infallible in Link's terms; [`ConversationRow::decode`] does the checking.
pub(crate) struct ConversationRow {
    id: String,
    owner: String,
    persona: String,
    created_at: i64,
    updated_at: i64,
    origin_conversation: Option<String>,
    origin_message: Option<String>,
    user_persona: Option<String>,
    memory: Option<String>,
}

/// A conversation's columns as written, in [`ConversationRow::COLUMNS`] order.
pub(crate) struct ConversationColumns {
    pub(crate) id: String,
    pub(crate) owner: String,
    pub(crate) persona: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) origin_conversation: Option<String>,
    pub(crate) origin_message: Option<String>,
    pub(crate) user_persona: Option<String>,
    pub(crate) memory: Option<String>,
}

impl ConversationColumns {
    pub(crate) fn encode(conversation: &Conversation) -> Result<Self> {
        Ok(Self {
            id: conversation.id.to_string(),
            owner: conversation.owner.clone(),
            persona: encode_persona(&conversation.persona)?,
            created_at: encode_time(conversation.created_at)?,
            updated_at: encode_time(conversation.updated_at)?,
            origin_conversation: conversation.origin.map(|o| o.conversation.to_string()),
            origin_message: conversation.origin.map(|o| o.message.to_string()),
            user_persona: encode_user_persona(conversation.user_persona.as_ref())?,
            memory: encode_memory(&conversation.memory)?,
        })
    }
}

/// A memory column: NULL for a memory that never held anything.
pub(crate) fn encode_memory(memory: &ConversationMemory) -> Result<Option<String>> {
    match memory.is_empty() {
        true => Ok(None),
        false => encode_json(memory, "memory").map(Some),
    }
}

/// A user persona column.
pub(crate) fn encode_user_persona(persona: Option<&UserPersona>) -> Result<Option<String>> {
    persona.map(|p| encode_json(p, "user persona")).transpose()
}

impl ConversationRow {
    /// The columns in order.
    pub(crate) const COLUMNS: &'static str = "id, owner, persona, created_at, updated_at, \
        origin_conversation, origin_message, user_persona, memory";

    /// Reads the columns of [`Self::COLUMNS`].
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            owner: row.get(1)?,
            persona: row.get(2)?,
            created_at: row.get(3)?,
            updated_at: row.get(4)?,
            origin_conversation: row.get(5)?,
            origin_message: row.get(6)?,
            user_persona: row.get(7)?,
            memory: row.get(8)?,
        })
    }

    /// The conversation, or a storage error naming what is corrupt.
    pub(crate) fn decode(self) -> Result<Conversation> {
        Ok(Conversation {
            id: decode_id::<ConversationId>(&self.id)?,
            owner: self.owner,
            persona: decode_persona(&self.persona)?,
            created_at: decode_time(self.created_at)?,
            updated_at: decode_time(self.updated_at)?,
            origin: match (self.origin_conversation, self.origin_message) {
                (Some(conversation), Some(message)) => Some(ForkOrigin {
                    conversation: decode_id(&conversation)?,
                    message: decode_id(&message)?,
                }),
                _ => None,
            },
            user_persona: decode_json_opt(self.user_persona, "user persona")?,
            memory: decode_json_opt(self.memory, "memory")?.unwrap_or_default(),
        })
    }
}

/// The raw columns of a message row; also what is written (see [`MessageRow::encode`]).
pub(crate) struct MessageRow {
    pub(crate) id: String,
    pub(crate) role: String,
    pub(crate) content: String,
    pub(crate) created_at: i64,
    pub(crate) alternatives: Option<String>,
    pub(crate) chosen: i64,
    pub(crate) interrupted: bool,
    pub(crate) edited_at: Option<i64>,
    pub(crate) revision: i64,
}

impl MessageRow {
    /// The columns in order.
    pub(crate) const COLUMNS: &'static str =
        "id, role, content, created_at, alternatives, chosen, interrupted, edited_at, revision";

    /// Reads the columns of [`Self::COLUMNS`].
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            role: row.get(1)?,
            content: row.get(2)?,
            created_at: row.get(3)?,
            alternatives: row.get(4)?,
            chosen: row.get(5)?,
            interrupted: row.get(6)?,
            edited_at: row.get(7)?,
            revision: row.get(8)?,
        })
    }

    /// The columns of `message`.
    pub(crate) fn encode(message: &Message) -> Result<Self> {
        let alternatives = match message.alternatives.is_empty() {
            true => None,
            false => Some(encode_json(&message.alternatives, "message versions")?),
        };
        Ok(Self {
            id: message.id.to_string(),
            role: message.role.as_str().to_owned(),
            content: message.content.clone(),
            created_at: encode_time(message.created_at)?,
            alternatives,
            chosen: i64::try_from(message.chosen).unwrap_or(i64::MAX),
            interrupted: message.interrupted,
            edited_at: message.edited_at.map(encode_time).transpose()?,
            revision: i64::from(message.revision),
        })
    }

    /// The message, or a storage error naming what is corrupt.
    pub(crate) fn decode(self) -> Result<Message> {
        Ok(Message {
            id: decode_id::<MessageId>(&self.id)?,
            role: decode_role(&self.role)?,
            content: self.content,
            created_at: decode_time(self.created_at)?,
            alternatives: decode_json_opt(self.alternatives, "message versions")?
                .unwrap_or_default(),
            chosen: usize::try_from(self.chosen)
                .map_err(|_| Error::storage("corrupt row: negative version index"))?,
            interrupted: self.interrupted,
            edited_at: self.edited_at.map(decode_time).transpose()?,
            revision: u32::try_from(self.revision)
                .map_err(|_| Error::storage("corrupt row: revision out of range"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_round_trip_to_the_nanosecond() {
        let t = datetime!(2024-02-29 23:59:59.123_456_789 +02:00);
        let back = decode_time(encode_time(t).unwrap()).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.nanosecond(), 123_456_789);
        assert_eq!(back.offset(), time::UtcOffset::UTC);
    }

    #[test]
    fn timestamps_outside_the_range_are_refused() {
        let err = encode_time(datetime!(1500-01-01 0:00 UTC)).unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }));
    }

    #[test]
    fn unknown_roles_and_bad_ids_are_corrupt_rows() {
        assert!(matches!(decode_role("system"), Err(Error::Storage { .. })));
        assert!(matches!(
            decode_id::<MessageId>("nope"),
            Err(Error::Storage { .. })
        ));
        assert_eq!(decode_role("assistant").unwrap(), Role::Assistant);
    }
}
