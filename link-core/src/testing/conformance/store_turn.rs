//! The [`ConversationStore::turn_state`] checks: what a turn reads in one call is exactly what
//! `get`, `messages`, `usage` and `user_persona` read, and it is scoped to the owner.
//!
//! Like every conformance check, each makes its own owners and runs in any order.

use super::store::{expect_not_found, message_at, stored};
use super::{expect_ok, unique};
use crate::{ConversationPatch, ConversationStore, Role, UserPersona};

/// Runs every check of this module, in order.
pub async fn conversation_store_turn(store: &dyn ConversationStore) {
    turn_state_reads_what_the_single_calls_read(store).await;
    turn_state_prefers_the_conversations_own_user_persona(store).await;
    turn_state_is_owner_scoped(store).await;
}

/// The conversation, its newest `window` messages oldest first, the owner's usage with this
/// conversation, and the owner's default user persona, as the single calls read them; also
/// with a second conversation of the owner's counted in the usage.
pub async fn turn_state_reads_what_the_single_calls_read(store: &dyn ConversationStore) {
    let owner = unique("turn-owner");
    let (conversation, _) = stored(store, &owner).await;
    let id = conversation.id;
    let later: Vec<_> = (1..=6)
        .map(|i| message_at(&conversation, i, Role::User, &format!("message {i} ✨")))
        .collect();
    expect_ok(store.append_all(&owner, id, &later).await, "append_all");
    stored(store, &owner).await;
    let me = UserPersona::new("Ann", "A sailor.");
    expect_ok(
        store.set_user_persona(&owner, Some(me.clone())).await,
        "set_user_persona",
    );
    let state = expect_ok(store.turn_state(&owner, id, 4).await, "turn_state");
    let get = expect_ok(store.get(&owner, id).await, "get");
    assert_eq!(
        Some(&state.conversation),
        get.as_ref(),
        "the conversation, as get reads it"
    );
    assert_eq!(
        state.messages,
        later[2..],
        "the newest four messages, oldest first"
    );
    let usage = expect_ok(store.usage(&owner, Some(id)).await, "usage");
    assert_eq!(state.usage, usage, "the usage, as usage reads it");
    assert_eq!(
        state.usage.conversations, 2,
        "both conversations are counted"
    );
    assert_eq!(
        state.user_persona,
        Some(me),
        "the owner's default user persona"
    );
    let all = expect_ok(store.turn_state(&owner, id, 100).await, "turn_state");
    assert_eq!(
        all.messages.len(),
        7,
        "a window larger than the conversation reads all of it"
    );
}

/// A conversation's own user persona wins over the owner's default.
pub async fn turn_state_prefers_the_conversations_own_user_persona(store: &dyn ConversationStore) {
    let owner = unique("turn-persona");
    let (conversation, _) = stored(store, &owner).await;
    let default = UserPersona::new("Ann", "A sailor.");
    expect_ok(
        store.set_user_persona(&owner, Some(default)).await,
        "set_user_persona",
    );
    let own = UserPersona::new("Watson", "A doctor.");
    let patch = ConversationPatch::default().user_persona(Some(own.clone()));
    expect_ok(
        store.update(&owner, conversation.id, &patch).await,
        "update",
    );
    let state = expect_ok(
        store.turn_state(&owner, conversation.id, 20).await,
        "turn_state",
    );
    assert_eq!(
        state.user_persona,
        Some(own),
        "the conversation's own user persona"
    );
}

/// Another owner's conversation, or a missing one, is NotFound.
pub async fn turn_state_is_owner_scoped(store: &dyn ConversationStore) {
    let (conversation, _) = stored(store, &unique("turn-alice")).await;
    expect_not_found(
        store
            .turn_state(&unique("turn-bob"), conversation.id, 20)
            .await,
        "turn_state of another owner's conversation",
    );
    expect_not_found(
        store
            .turn_state(&conversation.owner, crate::ConversationId::new(), 20)
            .await,
        "turn_state of a missing conversation",
    );
}
