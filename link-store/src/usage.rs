//! The SQL behind [`ConversationStore::usage`](link_core::ConversationStore::usage): each
//! conversation row carries its message count and text bytes (migration 0003), adjusted in
//! the transaction of every write to its messages, so a user's usage is a sum over their
//! conversation rows.

use link_core::{ConversationId, Error, MessageId, Result, StoreUsage};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::storage;

/// The bytes of message `m`'s text: each version in `alternatives` (a JSON array of
/// strings), else its `content`; as [`StoreUsage::message_bytes`] counts them.
macro_rules! message_bytes {
    () => {
        "CASE WHEN m.alternatives IS NULL THEN length(CAST(m.content AS BLOB)) \
         ELSE (SELECT coalesce(sum(length(CAST(v.value AS BLOB))), 0) \
               FROM json_each(m.alternatives) v) END"
    };
}

/// Some of a conversation's message rows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rows {
    /// Those after position `seq`.
    After(i64),
    /// The one with this id.
    Message(MessageId),
}

/// Whether [`adjust`] adds the rows' counts or takes them away.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sign {
    Add = 1,
    Remove = -1,
}

/// Adds to (or takes from) conversation `id`'s message count and bytes those of `rows`, as
/// they are now: a splice calls it before it deletes or rewrites rows and after it writes
/// them, so a turn costs the rows it touched, not a recount of the whole conversation.
pub(crate) fn adjust(
    tx: &Transaction<'_>,
    id: ConversationId,
    sign: Sign,
    rows: Rows,
) -> Result<()> {
    macro_rules! adjust_sql {
        ($filter:literal) => {
            concat!(
                "UPDATE conversations SET \
                 message_count = message_count + ?3 * (SELECT count(*) FROM messages m \
                     WHERE m.conversation_id = ?1 AND ",
                $filter,
                "), \
                 stored_bytes = stored_bytes + ?3 * (SELECT coalesce(sum(",
                message_bytes!(),
                "), 0) FROM messages m WHERE m.conversation_id = ?1 AND ",
                $filter,
                ") \
                 WHERE id = ?1"
            )
        };
    }
    let conversation = id.to_string();
    let sign = sign as i64;
    match rows {
        Rows::After(seq) => tx
            .prepare_cached(adjust_sql!("m.seq > ?2"))
            .and_then(|mut stmt| stmt.execute(params![conversation, seq, sign])),
        Rows::Message(message) => tx
            .prepare_cached(adjust_sql!("m.id = ?2"))
            .and_then(|mut stmt| stmt.execute(params![conversation, message.to_string(), sign])),
    }
    .map(|_| ())
    .map_err(storage("counting a conversation's messages"))
}

/// The position of conversation `id`'s newest message (0 when it has none): one step down
/// the (conversation_id, seq) index.
pub(crate) fn last_seq(tx: &Transaction<'_>, id: ConversationId) -> Result<i64> {
    tx.prepare_cached(
        "SELECT seq FROM messages WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT 1",
    )
    .and_then(|mut stmt| {
        stmt.query_row(params![id.to_string()], |row| row.get(0))
            .optional()
    })
    .map(Option::unwrap_or_default)
    .map_err(storage("reading the newest message"))
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
    usage_in(&tx, owner, conversation)
}

/// [`usage`] on `conn`, inside the caller's read transaction.
pub(crate) fn usage_in(
    conn: &Connection,
    owner: &str,
    conversation: Option<ConversationId>,
) -> Result<StoreUsage> {
    let (conversations, bytes): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(stored_bytes), 0) FROM conversations WHERE owner = ?1",
        )
        .and_then(|mut stmt| stmt.query_row(params![owner], |row| Ok((row.get(0)?, row.get(1)?))))
        .map_err(storage("reading a user's usage"))?;
    let messages = match conversation {
        Some(id) => messages_in(conn, owner, id)?,
        None => 0,
    };
    Ok(StoreUsage {
        conversations: usize::try_from(conversations).unwrap_or(usize::MAX),
        bytes: u64::try_from(bytes).unwrap_or(0),
        messages,
    })
}

fn messages_in(conn: &Connection, owner: &str, id: ConversationId) -> Result<usize> {
    let count: Option<i64> = conn
        .prepare_cached("SELECT message_count FROM conversations WHERE id = ?1 AND owner = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![id.to_string(), owner], |row| row.get(0))
                .optional()
        })
        .map_err(storage("reading a conversation's message count"))?;
    let count = count.ok_or_else(|| Error::not_found("conversation"))?;
    Ok(usize::try_from(count).unwrap_or(0))
}
