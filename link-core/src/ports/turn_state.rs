//! What a turn reads from a [`ConversationStore`] before it calls the model, in one call, so
//! that a store over a network can read it in one round trip.

use super::ConversationStore;
use crate::{Conversation, ConversationId, Error, Message, Result, StoreUsage, UserPersona};

/// What a turn reads before it calls the model (see [`ConversationStore::turn_state`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TurnState {
    /// The conversation.
    pub conversation: Conversation,
    /// Its newest messages (at most the window asked for), oldest first.
    pub messages: Vec<Message>,
    /// The owner's storage usage, with this conversation's message count.
    pub usage: StoreUsage,
    /// Who the user is in this conversation: its own user persona, else the owner's default.
    pub user_persona: Option<UserPersona>,
}

/// The default of [`ConversationStore::turn_state`]: `get`, `usage`, `messages` and (when the
/// conversation has no user persona of its own) `user_persona`, one after another.
pub(super) async fn read<S: ConversationStore + ?Sized>(
    store: &S,
    owner: &str,
    id: ConversationId,
    window: usize,
) -> Result<TurnState> {
    let conversation = store
        .get(owner, id)
        .await?
        .ok_or_else(|| Error::not_found("conversation"))?;
    let usage = store.usage(owner, Some(id)).await?;
    let messages = store.messages(owner, id, Some(window)).await?;
    let user_persona = match &conversation.user_persona {
        Some(persona) => Some(persona.clone()),
        None => store.user_persona(owner).await?,
    };
    Ok(TurnState {
        conversation,
        messages,
        usage,
        user_persona,
    })
}
