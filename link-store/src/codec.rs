//! How Link's types are laid out in SQLite columns, and read back.
//!
//! Ids are their canonical UUID text (UUIDv7 text sorts by creation time), the persona is
//! JSON text, roles are their lower-case names and timestamps are UTC Unix nanoseconds, which
//! keep every `OffsetDateTime` instant exactly and compare as integers.

use link_core::{Conversation, ConversationId, Error, Message, MessageId, Persona, Result, Role};
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
}

impl ConversationRow {
    /// The columns in order: `id, owner, persona, created_at, updated_at`.
    pub(crate) const COLUMNS: &'static str = "id, owner, persona, created_at, updated_at";

    /// Reads the columns of [`Self::COLUMNS`].
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            owner: row.get(1)?,
            persona: row.get(2)?,
            created_at: row.get(3)?,
            updated_at: row.get(4)?,
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
        })
    }
}

/// The raw columns of a message row.
pub(crate) struct MessageRow {
    id: String,
    role: String,
    content: String,
    created_at: i64,
}

impl MessageRow {
    /// The columns in order: `id, role, content, created_at`.
    pub(crate) const COLUMNS: &'static str = "id, role, content, created_at";

    /// Reads the columns of [`Self::COLUMNS`].
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            role: row.get(1)?,
            content: row.get(2)?,
            created_at: row.get(3)?,
        })
    }

    /// The message, or a storage error naming what is corrupt.
    pub(crate) fn decode(self) -> Result<Message> {
        Ok(Message {
            id: decode_id::<MessageId>(&self.id)?,
            role: decode_role(&self.role)?,
            content: self.content,
            created_at: decode_time(self.created_at)?,
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
