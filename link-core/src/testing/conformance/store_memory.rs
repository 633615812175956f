//! The [`ConversationStore`] checks of a conversation's memory: the summary, the message it
//! covers and the pinned facts are kept with the conversation (at their largest sizes too),
//! every change bumps the memory's revision, and a change that expects an older revision is a
//! conflict that changes nothing.
//!
//! Like every conformance check, each makes its own owners and runs in any order.

use super::store::{expect_not_found, get, listed, stored};
use super::{expect_err, expect_ok, unique};
use crate::conversation_memory::{MAX_PINNED_FACT_CHARS, MAX_PINNED_FACTS, MAX_SUMMARY_CHARS};
use crate::{ConversationPatch, ConversationStore, Error, MessageId};

/// Runs every check of this module, in order.
pub async fn conversation_store_memory(store: &dyn ConversationStore) {
    memory_at_its_largest_reads_back_exactly(store).await;
    a_memory_write_expecting_an_old_revision_is_a_conflict(store).await;
    memory_updates_are_owner_scoped(store).await;
}

/// A summary and pinned facts of the largest sizes the engine keeps (multi-byte text, so a
/// store that counts bytes sees four times the characters) read back exactly, from `get` and
/// from `list`, with the revision bumped and the time of the change.
pub async fn memory_at_its_largest_reads_back_exactly(store: &dyn ConversationStore) {
    let owner = unique("memory-owner");
    let (conversation, greeting) = stored(store, &owner).await;
    let summary: String = "🧠".repeat(MAX_SUMMARY_CHARS);
    let pinned = vec!["📌".repeat(MAX_PINNED_FACT_CHARS); MAX_PINNED_FACTS];
    let patch = ConversationPatch::default()
        .pinned_facts(pinned.clone())
        .summarised(summary.clone(), greeting.id, 0);
    let updated = expect_ok(
        store.update(&owner, conversation.id, &patch).await,
        "update",
    );
    let memory = &updated.memory;
    assert_eq!(
        (
            memory.summary.as_str(),
            memory.covered_through,
            &memory.pinned,
            memory.revision
        ),
        (summary.as_str(), Some(greeting.id), &pinned, 1),
        "update returns the memory as stored"
    );
    assert!(memory.updated_at.is_some(), "a memory change is stamped");
    let read = get(store, &owner, conversation.id).await;
    assert_eq!(
        read.as_ref(),
        Some(&updated),
        "get reads the memory back exactly"
    );
    let list = listed(store, &owner).await;
    assert_eq!(list, [updated], "list reads the memory back exactly");
}

/// A memory write made from revision 0 after another write took it to 1 is a conflict and
/// leaves the memory as the other write left it.
pub async fn a_memory_write_expecting_an_old_revision_is_a_conflict(store: &dyn ConversationStore) {
    let owner = unique("memory-race");
    let (conversation, greeting) = stored(store, &owner).await;
    let edit = ConversationPatch::default().memory_summary("The owner's words.");
    let edited = expect_ok(store.update(&owner, conversation.id, &edit).await, "update");
    assert_eq!(edited.memory.revision, 1, "an edit bumps the revision");
    let stale = ConversationPatch::default().summarised("A model's words.".into(), greeting.id, 0);
    let err = expect_err(
        store.update(&owner, conversation.id, &stale).await,
        "a write expecting an old memory revision",
    );
    assert!(
        matches!(err, Error::Conflict { .. }),
        "expected Error::Conflict, got {err:?}"
    );
    let read = get(store, &owner, conversation.id).await;
    assert_eq!(
        read,
        Some(edited),
        "a conflicting memory write changes nothing"
    );
    let fresh = ConversationPatch::default().summarised("A model's words.".into(), greeting.id, 1);
    let written = expect_ok(
        store.update(&owner, conversation.id, &fresh).await,
        "update",
    );
    assert_eq!(
        (written.memory.summary.as_str(), written.memory.revision),
        ("A model's words.", 2)
    );
}

/// Another owner cannot write a conversation's memory.
pub async fn memory_updates_are_owner_scoped(store: &dyn ConversationStore) {
    let owner = unique("memory-owner");
    let (conversation, _) = stored(store, &owner).await;
    let patch = ConversationPatch::default().summarised("x".into(), MessageId::new(), 0);
    expect_not_found(
        store
            .update(&unique("intruder"), conversation.id, &patch)
            .await,
        "memory update of another owner's conversation",
    );
    let read = get(store, &owner, conversation.id).await;
    assert_eq!(
        read,
        Some(conversation),
        "an intruder's write changes nothing"
    );
}
