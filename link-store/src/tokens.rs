//! The SQL behind [`ConversationStore::token_usage`](link_core::ConversationStore::token_usage)
//! and the tokens of a [`Splice`](link_core::Splice): one row per owner, month and
//! conversation (migration 0004), upserted in the splice's own transaction.

use link_core::{ConversationId, ConversationTokens, Error, Month, Result, TokenTally};
use rusqlite::{Connection, Transaction, params};

use crate::error::storage;

/// SQLite integers are signed 64-bit: a count beyond that is stored as the largest one (a
/// tally saturates, as `TokenTally::add` does, instead of failing the turn).
fn to_sql(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn from_sql(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

/// Adds `tally` to `owner`'s row for conversation `id` in `month`, within `tx`.
pub(crate) fn add(
    tx: &Transaction<'_>,
    owner: &str,
    id: ConversationId,
    month: Month,
    tally: TokenTally,
) -> Result<()> {
    // The sums saturate at the largest integer rather than overflow (an error in SQLite).
    tx.prepare_cached(
        "INSERT INTO token_usage \
             (owner, month, conversation_id, input_tokens, output_tokens, calls) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (owner, month, conversation_id) DO UPDATE SET \
             input_tokens = CASE WHEN input_tokens > 9223372036854775807 - excluded.input_tokens \
                 THEN 9223372036854775807 ELSE input_tokens + excluded.input_tokens END, \
             output_tokens = CASE WHEN output_tokens > 9223372036854775807 - excluded.output_tokens \
                 THEN 9223372036854775807 ELSE output_tokens + excluded.output_tokens END, \
             calls = CASE WHEN calls > 9223372036854775807 - excluded.calls \
                 THEN 9223372036854775807 ELSE calls + excluded.calls END",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            owner,
            month.to_string(),
            id.to_string(),
            to_sql(tally.input_tokens),
            to_sql(tally.output_tokens),
            to_sql(tally.calls),
        ])
    })
    .map(|_| ())
    .map_err(storage("adding to a token tally"))
}

/// `owner`'s tallies for `month`, the most tokens first, ties the newer conversation first
/// (ids are UUIDv7 in lowercase hex, so their text orders as they do).
pub(crate) fn token_usage(
    conn: &mut Connection,
    owner: &str,
    month: Month,
) -> Result<Vec<ConversationTokens>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT conversation_id, input_tokens, output_tokens, calls FROM token_usage \
             WHERE owner = ?1 AND month = ?2 \
             ORDER BY input_tokens + output_tokens DESC, conversation_id DESC",
        )
        .map_err(storage("reading token tallies"))?;
    let rows = stmt
        .query_map(params![owner, month.to_string()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(storage("reading token tallies"))?;
    rows.into_iter()
        .map(|(id, input, output, calls)| {
            Ok(ConversationTokens {
                conversation: id
                    .parse()
                    .map_err(|_| Error::storage("a token tally has a malformed conversation id"))?,
                tokens: TokenTally {
                    input_tokens: from_sql(input),
                    output_tokens: from_sql(output),
                    calls: from_sql(calls),
                },
            })
        })
        .collect()
}
