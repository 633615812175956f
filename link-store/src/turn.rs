//! What a turn reads before the model call, in one read transaction: the conversation, the
//! owner's usage, the newest messages and who the user is, all of one moment and on one
//! connection (four separate reads took a pooled connection and a transaction each).

use link_core::{ConversationId, Error, Result, TurnState};
use rusqlite::Connection;

use crate::error::storage;
use crate::{queries, usage};

/// [`ConversationStore::turn_state`](link_core::ConversationStore::turn_state) on `conn`.
pub(crate) fn turn_state(
    conn: &mut Connection,
    owner: &str,
    id: ConversationId,
    window: usize,
) -> Result<TurnState> {
    let tx = conn
        .transaction()
        .map_err(storage("starting a read transaction"))?;
    let conversation =
        queries::get_in(&tx, owner, id)?.ok_or_else(|| Error::not_found("conversation"))?;
    let usage = usage::usage_in(&tx, owner, Some(id))?;
    let messages = queries::window_in(&tx, id, Some(window))?;
    let user_persona = match &conversation.user_persona {
        Some(own) => Some(own.clone()),
        None => queries::user_persona_in(&tx, owner)?,
    };
    Ok(TurnState {
        conversation,
        messages,
        usage,
        user_persona,
    })
}
