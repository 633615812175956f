//! The SQL behind a conversation's avatar: one row in `avatars` per conversation that has
//! one, owner-scoped through its conversation.

use link_core::{Avatar, ConversationId, Error, Result};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::storage;

/// The avatar of `owner`'s conversation `id`; NotFound if there is no such conversation.
pub(crate) fn avatar(
    conn: &mut Connection,
    owner: &str,
    id: ConversationId,
) -> Result<Option<Avatar>> {
    let row: Option<Option<Vec<u8>>> = conn
        .prepare_cached(
            "SELECT a.png FROM conversations c LEFT JOIN avatars a ON a.conversation_id = c.id \
             WHERE c.id = ?1 AND c.owner = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![id.to_string(), owner], |row| row.get(0))
                .optional()
        })
        .map_err(storage("reading an avatar"))?;
    let png = row.ok_or_else(|| Error::not_found("conversation"))?;
    png.map(Avatar::new).transpose()
}

/// Sets or removes the avatar of `owner`'s conversation `id`, within `tx`.
pub(crate) fn set_avatar(
    tx: &Transaction<'_>,
    owner: &str,
    id: ConversationId,
    avatar: Option<&Avatar>,
) -> Result<()> {
    let owned = tx
        .prepare_cached("SELECT 1 FROM conversations WHERE id = ?1 AND owner = ?2")
        .and_then(|mut stmt| stmt.exists(params![id.to_string(), owner]))
        .map_err(storage("reading a conversation"))?;
    if !owned {
        return Err(Error::not_found("conversation"));
    }
    let written = match avatar {
        Some(avatar) => tx
            .prepare_cached(
                "INSERT INTO avatars (conversation_id, png) VALUES (?1, ?2) \
                 ON CONFLICT (conversation_id) DO UPDATE SET png = excluded.png",
            )
            .and_then(|mut stmt| stmt.execute(params![id.to_string(), avatar.as_bytes()])),
        None => tx
            .prepare_cached("DELETE FROM avatars WHERE conversation_id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id.to_string()])),
    };
    written.map(|_| ()).map_err(storage("storing an avatar"))
}
