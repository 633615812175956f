//! The SQL behind [`ConversationStore::usage`](link_core::ConversationStore::usage): each
//! conversation row carries its message count and text bytes (migration 0003), refreshed in
//! the transaction of every write to its messages, so a user's usage is a sum over their
//! conversation rows.

use link_core::{ConversationId, Error, Result, StoreUsage};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::storage;

/// Recounts conversation `id`'s messages and bytes from its rows. A message's bytes are those
/// of each version in `alternatives` (a JSON array of strings), else of its `content`.
pub(crate) fn refresh(tx: &Transaction<'_>, id: ConversationId) -> Result<()> {
    tx.prepare_cached(
        "UPDATE conversations SET \
         message_count = (SELECT count(*) FROM messages m WHERE m.conversation_id = ?1), \
         stored_bytes = (SELECT coalesce(sum(CASE WHEN m.alternatives IS NULL \
             THEN length(CAST(m.content AS BLOB)) \
             ELSE (SELECT coalesce(sum(length(CAST(v.value AS BLOB))), 0) \
                   FROM json_each(m.alternatives) v) END), 0) \
             FROM messages m WHERE m.conversation_id = ?1) \
         WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute(params![id.to_string()]))
    .map(|_| ())
    .map_err(storage("counting a conversation's messages"))
}

/// `owner`'s conversations and bytes, with `conversation`'s messages; one read transaction,
/// so the numbers are of one moment.
pub(crate) fn usage(
    conn: &mut Connection,
    owner: &str,
    conversation: Option<ConversationId>,
) -> Result<StoreUsage> {
    let tx = conn
        .transaction()
        .map_err(storage("starting a read transaction"))?;
    let (conversations, bytes): (i64, i64) = tx
        .prepare_cached(
            "SELECT count(*), coalesce(sum(stored_bytes), 0) FROM conversations WHERE owner = ?1",
        )
        .and_then(|mut stmt| stmt.query_row(params![owner], |row| Ok((row.get(0)?, row.get(1)?))))
        .map_err(storage("reading a user's usage"))?;
    let messages = match conversation {
        Some(id) => messages_in(&tx, owner, id)?,
        None => 0,
    };
    Ok(StoreUsage {
        conversations: usize::try_from(conversations).unwrap_or(usize::MAX),
        bytes: u64::try_from(bytes).unwrap_or(0),
        messages,
    })
}

fn messages_in(tx: &Transaction<'_>, owner: &str, id: ConversationId) -> Result<usize> {
    let count: Option<i64> = tx
        .prepare_cached("SELECT message_count FROM conversations WHERE id = ?1 AND owner = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![id.to_string(), owner], |row| row.get(0))
                .optional()
        })
        .map_err(storage("reading a conversation's message count"))?;
    let count = count.ok_or_else(|| Error::not_found("conversation"))?;
    Ok(usize::try_from(count).unwrap_or(0))
}
