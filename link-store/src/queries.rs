//! The SQL behind each [`ConversationStore`](link_core::ConversationStore) method, as
//! blocking functions on one connection. The async layer runs them off the runtime.
//!
//! Owner scoping lives in the `WHERE` clauses: a row of another owner is never matched, so it
//! behaves exactly like a missing one.

use link_core::{Conversation, ConversationId, Error, Message, Result};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::codec::{ConversationRow, MessageRow, encode_persona, encode_time};
use crate::error::{is_constraint, storage};

/// Starts a write transaction that takes the write lock at once, so it never has to upgrade
/// a read lock half-way (which can fail with SQLITE_BUSY regardless of the busy timeout).
fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(storage("starting a write transaction"))
}

pub(crate) fn create(
    conn: &mut Connection,
    conversation: &Conversation,
    messages: &[Message],
) -> Result<()> {
    let persona = encode_persona(&conversation.persona)?;
    let created_at = encode_time(conversation.created_at)?;
    let updated_at = encode_time(conversation.updated_at)?;
    let tx = write_tx(conn)?;
    let inserted = tx
        .prepare_cached(&format!(
            "INSERT INTO conversations ({}) VALUES (?1, ?2, ?3, ?4, ?5)",
            ConversationRow::COLUMNS
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                conversation.id.to_string(),
                conversation.owner,
                persona,
                created_at,
                updated_at,
            ])
        });
    match inserted {
        Err(e) if is_constraint(&e) => {
            return Err(Error::storage("conversation id already exists"));
        }
        other => other.map_err(storage("storing a conversation"))?,
    };
    for message in messages {
        insert_message(&tx, conversation.id, message)?;
    }
    tx.commit()
        .map_err(storage("committing a new conversation"))
}

pub(crate) fn get(
    conn: &mut Connection,
    owner: &str,
    id: ConversationId,
) -> Result<Option<Conversation>> {
    conn.prepare_cached(&format!(
        "SELECT {} FROM conversations WHERE id = ?1 AND owner = ?2",
        ConversationRow::COLUMNS
    ))
    .and_then(|mut stmt| {
        stmt.query_row(params![id.to_string(), owner], ConversationRow::read)
            .optional()
    })
    .map_err(storage("reading a conversation"))?
    .map(ConversationRow::decode)
    .transpose()
}

pub(crate) fn list(conn: &mut Connection, owner: &str) -> Result<Vec<Conversation>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {} FROM conversations WHERE owner = ?1 ORDER BY updated_at DESC, id DESC",
            ConversationRow::COLUMNS
        ))
        .and_then(|mut stmt| {
            stmt.query_map(params![owner], ConversationRow::read)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(storage("listing conversations"))?;
    rows.into_iter().map(ConversationRow::decode).collect()
}

pub(crate) fn delete(conn: &mut Connection, owner: &str, id: ConversationId) -> Result<bool> {
    let tx = write_tx(conn)?;
    // Messages go with it through ON DELETE CASCADE (foreign_keys is on for every connection).
    let deleted = tx
        .prepare_cached("DELETE FROM conversations WHERE id = ?1 AND owner = ?2")
        .and_then(|mut stmt| stmt.execute(params![id.to_string(), owner]))
        .map_err(storage("deleting a conversation"))?;
    tx.commit().map_err(storage("committing a delete"))?;
    Ok(deleted > 0)
}

/// Appends `messages` in one transaction: one commit, and each touched page written once.
pub(crate) fn append(
    conn: &mut Connection,
    owner: &str,
    id: ConversationId,
    messages: &[Message],
) -> Result<()> {
    let Some(newest) = messages.iter().map(|m| m.created_at).max() else {
        return Ok(());
    };
    let created_at = encode_time(newest)?;
    let tx = write_tx(conn)?;
    // The same rule as link-core's MemoryStore: updated_at never moves backwards.
    let touched = tx
        .prepare_cached(
            "UPDATE conversations SET updated_at = max(updated_at, ?3) \
             WHERE id = ?1 AND owner = ?2",
        )
        .and_then(|mut stmt| stmt.execute(params![id.to_string(), owner, created_at]))
        .map_err(storage("updating a conversation"))?;
    if touched == 0 {
        return Err(Error::not_found("conversation"));
    }
    for message in messages {
        insert_message(&tx, id, message)?;
    }
    tx.commit().map_err(storage("committing messages"))
}

pub(crate) fn messages(
    conn: &mut Connection,
    owner: &str,
    id: ConversationId,
    last: Option<usize>,
) -> Result<Vec<Message>> {
    // One read transaction, so the ownership check and the rows see the same snapshot.
    let tx = conn
        .transaction()
        .map_err(storage("starting a read transaction"))?;
    if !owns(&tx, owner, id)? {
        return Err(Error::not_found("conversation"));
    }
    // LIMIT -1 is SQLite's "no limit"; the newest `last` are picked, then put oldest first.
    let limit = last.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
    let rows = tx
        .prepare_cached(&format!(
            "SELECT {cols} FROM (SELECT seq, {cols} FROM messages WHERE conversation_id = ?1 \
             ORDER BY seq DESC LIMIT ?2) ORDER BY seq ASC",
            cols = MessageRow::COLUMNS
        ))
        .and_then(|mut stmt| {
            stmt.query_map(params![id.to_string(), limit], MessageRow::read)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(storage("reading messages"))?;
    rows.into_iter().map(MessageRow::decode).collect()
}

/// A cheap query that touches the schema, for readiness.
pub(crate) fn ping(conn: &mut Connection) -> Result<()> {
    conn.prepare_cached("SELECT count(*) FROM sqlite_schema")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get::<_, i64>(0)))
        .map(|_| ())
        .map_err(storage("checking the database"))
}

fn owns(tx: &Transaction<'_>, owner: &str, id: ConversationId) -> Result<bool> {
    tx.prepare_cached("SELECT 1 FROM conversations WHERE id = ?1 AND owner = ?2")
        .and_then(|mut stmt| stmt.exists(params![id.to_string(), owner]))
        .map_err(storage("reading a conversation"))
}

fn insert_message(
    tx: &Transaction<'_>,
    conversation: ConversationId,
    message: &Message,
) -> Result<()> {
    let created_at = encode_time(message.created_at)?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO messages (id, conversation_id, role, content, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                message.id.to_string(),
                conversation.to_string(),
                message.role.as_str(),
                message.content,
                created_at,
            ])
        });
    match inserted {
        Err(e) if is_constraint(&e) => Err(Error::storage("message id already exists")),
        other => other.map(|_| ()).map_err(storage("storing a message")),
    }
}
