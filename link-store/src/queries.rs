//! The SQL behind each [`ConversationStore`](link_core::ConversationStore) method, as
//! blocking functions on one connection. The async layer runs them off the runtime.
//!
//! A write runs inside a write transaction that it does not own (the group commit's, see
//! `group_commit`): it returns an error to have its changes rolled back, and never commits.
//!
//! Owner scoping lives in the `WHERE` clauses: a row of another owner is never matched, so it
//! behaves exactly like a missing one.

use link_core::page::{decode_position, encode_position};
use link_core::splice::{changed_meanwhile, rewritten_meanwhile};
use link_core::{
    Conversation, ConversationId, ConversationPatch, Cursor, Error, Message, MessageId, Page,
    PageRequest, Result, Splice, UserPersona,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::codec::{
    ConversationColumns, ConversationRow, MessageRow, decode_json, encode_json, encode_memory,
    encode_persona, encode_time, encode_user_persona,
};
use crate::error::{is_constraint, storage};
use crate::tokens;
use crate::usage;

/// Stores a new conversation and its first messages, within `tx`.
pub(crate) fn create(
    tx: &Transaction<'_>,
    conversation: &Conversation,
    messages: &[Message],
) -> Result<()> {
    let row = ConversationColumns::encode(conversation)?;
    let inserted = tx
        .prepare_cached(&format!(
            "INSERT INTO conversations ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            ConversationRow::COLUMNS
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                row.id,
                row.owner,
                row.persona,
                row.created_at,
                row.updated_at,
                row.origin_conversation,
                row.origin_message,
                row.user_persona,
                row.memory,
            ])
        });
    match inserted {
        Err(e) if is_constraint(&e) => {
            return Err(Error::storage("conversation id already exists"));
        }
        other => other.map_err(storage("storing a conversation"))?,
    };
    for message in messages {
        insert_message(tx, conversation.id, message)?;
    }
    // A new conversation's counters start at 0: its messages are all added.
    usage::adjust(tx, conversation.id, usage::Sign::Add, usage::Rows::After(0))
}

pub(crate) fn get(
    conn: &mut Connection,
    owner: &str,
    id: ConversationId,
) -> Result<Option<Conversation>> {
    get_in(conn, owner, id)
}

pub(crate) fn get_in(
    conn: &Connection,
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

pub(crate) fn list(
    conn: &mut Connection,
    owner: &str,
    page: &PageRequest,
) -> Result<Page<Conversation>> {
    // The cursor is the (updated_at, id) of the previous page's last row; NULLs read the
    // first page. The index on (owner, updated_at DESC, id DESC) serves both.
    let (after_time, after_id) = match &page.after {
        Some(cursor) => {
            let (nanos, id) = decode_position::<ConversationId>(cursor)?;
            let nanos = i64::try_from(nanos).map_err(|_| Cursor::invalid())?;
            (Some(nanos), Some(id.to_string()))
        }
        None => (None, None),
    };
    let fetch = i64::try_from(page.limit.saturating_add(1)).unwrap_or(i64::MAX);
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {} FROM conversations WHERE owner = ?1 \
             AND (?2 IS NULL OR (updated_at, id) < (?2, ?3)) \
             ORDER BY updated_at DESC, id DESC LIMIT ?4",
            ConversationRow::COLUMNS
        ))
        .and_then(|mut stmt| {
            stmt.query_map(
                params![owner, after_time, after_id, fetch],
                ConversationRow::read,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(storage("listing conversations"))?;
    let mut items = rows
        .into_iter()
        .map(ConversationRow::decode)
        .collect::<Result<Vec<_>>>()?;
    let mut next = None;
    if items.len() > page.limit {
        items.truncate(page.limit);
        next = items
            .last()
            .map(|c| encode_position(c.updated_at.unix_timestamp_nanos(), c.id));
    }
    Ok(Page { items, next })
}

/// Applies `patch` to `owner`'s conversation `id` within `tx`; the conversation as patched.
pub(crate) fn update(
    tx: &Transaction<'_>,
    owner: &str,
    id: ConversationId,
    patch: &ConversationPatch,
) -> Result<Conversation> {
    let mut conversation =
        get_in(tx, owner, id)?.ok_or_else(|| Error::not_found("conversation"))?;
    patch.apply(&mut conversation)?;
    let user_persona = encode_user_persona(conversation.user_persona.as_ref())?;
    let memory = encode_memory(&conversation.memory)?;
    // The persona column is rewritten only when the patch changes it (its lorebook).
    let persona = patch
        .lorebook
        .is_some()
        .then(|| encode_persona(&conversation.persona))
        .transpose()?;
    tx.prepare_cached(
        "UPDATE conversations SET user_persona = ?3, memory = ?4, persona = COALESCE(?5, persona) \
         WHERE id = ?1 AND owner = ?2",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            id.to_string(),
            owner,
            user_persona,
            memory,
            persona
        ])
    })
    .map_err(storage("updating a conversation"))?;
    Ok(conversation)
}

/// Deletes `owner`'s conversation `id` within `tx`; whether there was one.
pub(crate) fn delete(tx: &Transaction<'_>, owner: &str, id: ConversationId) -> Result<bool> {
    // Messages go with it through ON DELETE CASCADE (foreign_keys is on for every connection).
    let deleted = tx
        .prepare_cached("DELETE FROM conversations WHERE id = ?1 AND owner = ?2")
        .and_then(|mut stmt| stmt.execute(params![id.to_string(), owner]))
        .map_err(storage("deleting a conversation"))?;
    Ok(deleted > 0)
}

/// Applies a splice within `tx` (see [`Splice`] for the order of the checks): each touched
/// page written once. An append-only splice is a turn's write.
pub(crate) fn splice(
    tx: &Transaction<'_>,
    owner: &str,
    id: ConversationId,
    splice: &Splice,
) -> Result<()> {
    if !owns(tx, owner, id)? {
        return Err(Error::not_found("conversation"));
    }
    if let Some(expected) = splice.expect_last
        && last_message(tx, id)? != Some(expected.to_string())
    {
        return Err(changed_meanwhile());
    }
    let keep = splice.keep_through.map(|m| seq_of(tx, id, m)).transpose()?;
    // The conversation's counts follow each change by the rows it touched (see usage::adjust).
    for message in &splice.replace {
        if keep.is_some_and(|keep| seq_of(tx, id, message.id).is_ok_and(|seq| seq > keep)) {
            return Err(Error::not_found("message"));
        }
        let rows = usage::Rows::Message(message.id);
        usage::adjust(tx, id, usage::Sign::Remove, rows)?;
        replace_message(tx, id, message)?;
        usage::adjust(tx, id, usage::Sign::Add, rows)?;
    }
    if let Some(keep) = keep {
        usage::adjust(tx, id, usage::Sign::Remove, usage::Rows::After(keep))?;
        tx.prepare_cached("DELETE FROM messages WHERE conversation_id = ?1 AND seq > ?2")
            .and_then(|mut stmt| stmt.execute(params![id.to_string(), keep]))
            .map_err(storage("removing messages"))?;
    }
    if !splice.append.is_empty() {
        let before = usage::last_seq(tx, id)?;
        for message in &splice.append {
            insert_message(tx, id, message)?;
        }
        usage::adjust(tx, id, usage::Sign::Add, usage::Rows::After(before))?;
    }
    if let Some(at) = splice.touched_at() {
        let at = encode_time(at)?;
        // The same rule as link-core's MemoryStore: updated_at never moves backwards.
        tx.prepare_cached(
            "UPDATE conversations SET updated_at = max(updated_at, ?2) WHERE id = ?1",
        )
        .and_then(|mut stmt| stmt.execute(params![id.to_string(), at]))
        .map_err(storage("updating a conversation"))?;
    }
    if let Some((month, tally)) = splice.tokens {
        tokens::add(tx, owner, id, month, tally)?;
    }
    Ok(())
}

fn last_message(tx: &Transaction<'_>, id: ConversationId) -> Result<Option<String>> {
    tx.prepare_cached(
        "SELECT id FROM messages WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT 1",
    )
    .and_then(|mut stmt| {
        stmt.query_row(params![id.to_string()], |row| row.get(0))
            .optional()
    })
    .map_err(storage("reading the newest message"))
}

/// The position of message `message` in conversation `id`, or not found.
fn seq_of(tx: &Transaction<'_>, id: ConversationId, message: MessageId) -> Result<i64> {
    tx.prepare_cached("SELECT seq FROM messages WHERE id = ?1 AND conversation_id = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![message.to_string(), id.to_string()], |row| {
                row.get(0)
            })
            .optional()
        })
        .map_err(storage("reading a message"))?
        .ok_or_else(|| Error::not_found("message"))
}

/// Overwrites a message's text, versions and flags if its revision is the one the caller
/// read, and bumps the revision; its id, role and time stay.
fn replace_message(tx: &Transaction<'_>, id: ConversationId, message: &Message) -> Result<()> {
    let row = MessageRow::encode(message)?;
    let changed = tx
        .prepare_cached(
            "UPDATE messages SET content = ?3, alternatives = ?4, chosen = ?5, \
             interrupted = ?6, edited_at = ?7, revision = revision + 1 \
             WHERE id = ?1 AND conversation_id = ?2 AND revision = ?8",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                row.id,
                id.to_string(),
                row.content,
                row.alternatives,
                row.chosen,
                row.interrupted,
                row.edited_at,
                row.revision,
            ])
        })
        .map_err(storage("rewriting a message"))?;
    match changed {
        // The message is there (seq_of checked): another request rewrote it first.
        0 => seq_of(tx, id, message.id).and(Err(rewritten_meanwhile())),
        _ => Ok(()),
    }
}

pub(crate) fn user_persona(conn: &mut Connection, owner: &str) -> Result<Option<UserPersona>> {
    user_persona_in(conn, owner)
}

/// `owner`'s default user persona, on `conn` (a transaction's, or not).
pub(crate) fn user_persona_in(conn: &Connection, owner: &str) -> Result<Option<UserPersona>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT persona FROM user_personas WHERE owner = ?1")
        .and_then(|mut stmt| stmt.query_row(params![owner], |row| row.get(0)).optional())
        .map_err(storage("reading a user persona"))?;
    json.map(|json| decode_json(&json, "user persona"))
        .transpose()
}

/// Sets or removes `owner`'s default user persona, within `tx`.
pub(crate) fn set_user_persona(
    tx: &Transaction<'_>,
    owner: &str,
    persona: Option<&UserPersona>,
) -> Result<()> {
    let result = match persona {
        Some(persona) => {
            let json = encode_json(persona, "user persona")?;
            tx.prepare_cached(
                "INSERT INTO user_personas (owner, persona) VALUES (?1, ?2) \
                 ON CONFLICT (owner) DO UPDATE SET persona = excluded.persona",
            )
            .and_then(|mut stmt| stmt.execute(params![owner, json]))
        }
        None => tx
            .prepare_cached("DELETE FROM user_personas WHERE owner = ?1")
            .and_then(|mut stmt| stmt.execute(params![owner])),
    };
    result
        .map(|_| ())
        .map_err(storage("storing a user persona"))
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
    window_in(&tx, id, last)
}

/// The messages of conversation `id` (its newest `last`), oldest first, on `conn`: the
/// caller has checked the owner.
pub(crate) fn window_in(
    conn: &Connection,
    id: ConversationId,
    last: Option<usize>,
) -> Result<Vec<Message>> {
    // LIMIT -1 is SQLite's "no limit". The newest `last` come newest first straight off the
    // (conversation_id, seq) index and are put oldest first here: a sort in SQL would copy
    // every row into a sorter first.
    let limit = last.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
    let mut rows = conn
        .prepare_cached(&format!(
            "SELECT {cols} FROM messages WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT ?2",
            cols = MessageRow::COLUMNS
        ))
        .and_then(|mut stmt| {
            stmt.query_map(params![id.to_string(), limit], MessageRow::read)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(storage("reading messages"))?;
    rows.reverse();
    rows.into_iter().map(MessageRow::decode).collect()
}

/// A cheap query that touches the schema, for readiness.
pub(crate) fn ping(conn: &Connection) -> Result<()> {
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
    let row = MessageRow::encode(message)?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO messages (id, conversation_id, role, content, created_at, \
             alternatives, chosen, interrupted, edited_at, revision) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                row.id,
                conversation.to_string(),
                row.role,
                row.content,
                row.created_at,
                row.alternatives,
                row.chosen,
                row.interrupted,
                row.edited_at,
                row.revision,
            ])
        });
    match inserted {
        Err(e) if is_constraint(&e) => Err(Error::storage("message id already exists")),
        other => other.map(|_| ()).map_err(storage("storing a message")),
    }
}
