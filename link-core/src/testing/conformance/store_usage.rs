//! The [`ConversationStore::usage`] checks: what an owner keeps is counted exactly (their
//! conversations, the bytes of every version of every message, the messages of one
//! conversation), follows every write, and is scoped to the owner.

use super::store::{conversation, message_at, stored};
use super::{expect_err, expect_ok, unique};
use crate::{
    Conversation, ConversationId, ConversationStore, Error, Message, Role, Splice, StoreUsage,
};

/// Runs every check of this module, in order.
pub async fn conversation_store_usage(store: &dyn ConversationStore) {
    usage_of_a_new_owner_is_zero(store).await;
    usage_counts_conversations_bytes_and_messages_exactly(store).await;
    usage_follows_versions_cuts_and_deletes(store).await;
    usage_is_owner_scoped(store).await;
}

async fn usage(
    store: &dyn ConversationStore,
    owner: &str,
    conversation: Option<ConversationId>,
) -> StoreUsage {
    expect_ok(store.usage(owner, conversation).await, "usage")
}

/// What `conversation`'s owner keeps, counted with `conversation`'s messages.
async fn usage_in(store: &dyn ConversationStore, conversation: &Conversation) -> StoreUsage {
    usage(store, &conversation.owner, Some(conversation.id)).await
}

fn bytes(text: &[&str]) -> u64 {
    text.iter().map(|t| t.len() as u64).sum()
}

/// An owner with nothing stored uses nothing.
pub async fn usage_of_a_new_owner_is_zero(store: &dyn ConversationStore) {
    assert_eq!(
        usage(store, &unique("nobody"), None).await,
        StoreUsage::default(),
        "an owner with nothing stored must use nothing"
    );
}

/// Two conversations, a turn appended to one: both counted, the text's UTF-8 bytes summed,
/// and the messages of the conversation asked about counted.
pub async fn usage_counts_conversations_bytes_and_messages_exactly(store: &dyn ConversationStore) {
    let owner = unique("alice");
    let (first, _) = stored(store, &owner).await;
    let (second, _) = stored(store, &owner).await;
    let pair = [
        message_at(&first, 1, Role::User, "Wer bist du? ✨"),
        message_at(&first, 2, Role::Assistant, "Ein Detektiv."),
    ];
    expect_ok(
        store.append_all(&owner, first.id, &pair).await,
        "append_all",
    );
    let greeting = "Hello! 👋";
    let expected = StoreUsage {
        conversations: 2,
        bytes: bytes(&[greeting, greeting, "Wer bist du? ✨", "Ein Detektiv."]),
        messages: 3,
    };
    assert_eq!(usage_in(store, &first).await, expected, "usage of {owner}");
    let other = StoreUsage {
        messages: 1,
        ..expected
    };
    assert_eq!(
        usage_in(store, &second).await,
        other,
        "usage with another conversation"
    );
    let without = StoreUsage {
        messages: 0,
        ..expected
    };
    assert_eq!(
        usage(store, &owner, None).await,
        without,
        "usage with no conversation"
    );
}

/// Every version of a message counts; cutting messages and deleting a conversation frees
/// their bytes.
pub async fn usage_follows_versions_cuts_and_deletes(store: &dyn ConversationStore) {
    let owner = unique("alice");
    let (kept, _) = stored(store, &owner).await;
    let fresh = conversation(&owner, "Fresh");
    let greeting = message_at(&fresh, 0, Role::Assistant, "Hi");
    let mut reply = message_at(&fresh, 2, Role::Assistant, "one");
    let turn = [message_at(&fresh, 1, Role::User, "q"), reply.clone()];
    expect_ok(
        store.create(&fresh, std::slice::from_ref(&greeting)).await,
        "create",
    );
    expect_ok(
        store.append_all(&owner, fresh.id, &turn).await,
        "append_all",
    );
    reply.add_alternative("two ✨");
    let replaced = store
        .splice(&owner, fresh.id, &Splice::default().replace(reply))
        .await;
    expect_ok(replaced, "splice");
    let kept_bytes = bytes(&["Hello! 👋"]);
    let all = kept_bytes + bytes(&["Hi", "q", "one", "two ✨"]);
    assert_eq!(
        usage_in(store, &fresh).await.bytes,
        all,
        "every version must count"
    );

    let cut = Splice::default().keep_through(greeting.id);
    expect_ok(store.splice(&owner, fresh.id, &cut).await, "splice");
    let after_cut = usage_in(store, &fresh).await;
    assert_eq!(
        (after_cut.bytes, after_cut.messages),
        (kept_bytes + bytes(&["Hi"]), 1),
        "removed messages must no longer count"
    );

    expect_ok(store.delete(&owner, fresh.id).await, "delete");
    let expected = StoreUsage {
        conversations: 1,
        bytes: kept_bytes,
        messages: 1,
    };
    assert_eq!(
        usage_in(store, &kept).await,
        expected,
        "a deleted conversation must not count"
    );
}

/// Another owner's conversations never count, and asking about another owner's (or a
/// missing) conversation is not found.
pub async fn usage_is_owner_scoped(store: &dyn ConversationStore) {
    let (alices, _) = stored(store, &unique("alice")).await;
    let bob = unique("bob");
    let (bobs, _) = stored(store, &bob).await;
    let extra = [Message::new(Role::User, "more text")];
    expect_ok(store.append_all(&bob, bobs.id, &extra).await, "append_all");
    let alice = usage(store, &alices.owner, None).await;
    assert_eq!(
        (alice.conversations, alice.bytes),
        (1, bytes(&["Hello! 👋"])),
        "another owner's conversations must not count"
    );
    for (id, what) in [
        (bobs.id, "another owner's"),
        (ConversationId::new(), "a missing"),
    ] {
        let rule = format!("usage with {what} conversation");
        let err = expect_err(store.usage(&alices.owner, Some(id)).await, &rule);
        assert!(
            matches!(err, Error::NotFound { .. }),
            "{rule}: expected not found, got {err}"
        );
    }
}
