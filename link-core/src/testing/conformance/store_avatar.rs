//! The [`ConversationStore`] checks of a conversation's avatar: kept exactly at the largest
//! size Link allows (more than one DynamoDB item holds), replaced and removed as a whole,
//! scoped to the owner, and deleted with the conversation.
//!
//! Like every conformance check, each makes its own owners and runs in any order.

use super::store::{expect_not_found, messages_of, stored};
use super::{expect_ok, unique};
use crate::card::png::SIGNATURE;
use crate::{Avatar, ConversationStore, MAX_AVATAR_BYTES};

/// Runs every check of this module, in order.
pub async fn conversation_store_avatar(store: &dyn ConversationStore) {
    a_new_conversation_has_no_avatar(store).await;
    the_largest_avatar_reads_back_exactly_and_is_replaced_whole(store).await;
    avatars_are_owner_scoped(store).await;
    delete_takes_the_avatar_with_the_conversation(store).await;
}

/// An avatar of `len` bytes: the PNG signature, then bytes that differ with `seed` and along
/// the image, so a store that mixes up or reorders parts is caught.
pub fn avatar_of(len: usize, seed: u8) -> Avatar {
    let mut bytes = SIGNATURE.to_vec();
    bytes.extend((SIGNATURE.len()..len).map(|i| (i % 251) as u8 ^ seed));
    Avatar::new(bytes).unwrap_or_else(|err| panic!("test avatar of {len} bytes: {err}"))
}

/// A conversation that was never given an avatar has none.
pub async fn a_new_conversation_has_no_avatar(store: &dyn ConversationStore) {
    let owner = unique("avatar-none");
    let (conversation, _) = stored(store, &owner).await;
    let read = expect_ok(store.avatar(&owner, conversation.id).await, "avatar");
    assert_eq!(read, None, "a new conversation has no avatar");
}

/// An avatar of [`MAX_AVATAR_BYTES`] reads back byte for byte; a smaller one replaces it
/// whole (nothing of the larger one is left behind); `None` removes it; none of this touches
/// the conversation's messages.
pub async fn the_largest_avatar_reads_back_exactly_and_is_replaced_whole(
    store: &dyn ConversationStore,
) {
    let owner = unique("avatar-owner");
    let (conversation, greeting) = stored(store, &owner).await;
    let id = conversation.id;
    let large = avatar_of(MAX_AVATAR_BYTES, 1);
    expect_ok(
        store.set_avatar(&owner, id, Some(large.clone())).await,
        "set_avatar",
    );
    let read = expect_ok(store.avatar(&owner, id).await, "avatar");
    assert!(read == Some(large), "the largest avatar reads back exactly");
    let small = avatar_of(1000, 2);
    expect_ok(
        store.set_avatar(&owner, id, Some(small.clone())).await,
        "set_avatar",
    );
    let read = expect_ok(store.avatar(&owner, id).await, "avatar");
    assert_eq!(read, Some(small), "a new avatar replaces the old one whole");
    expect_ok(store.set_avatar(&owner, id, None).await, "set_avatar(None)");
    let read = expect_ok(store.avatar(&owner, id).await, "avatar");
    assert_eq!(read, None, "set_avatar(None) removes the avatar");
    let messages = messages_of(store, &conversation, None).await;
    assert_eq!(messages, [greeting], "avatars leave the messages alone");
}

/// Another owner can neither read nor set the avatar (both NotFound, as for a conversation
/// that does not exist), and the owner's avatar is left as it was.
pub async fn avatars_are_owner_scoped(store: &dyn ConversationStore) {
    let (alice, mallory) = (unique("avatar-alice"), unique("avatar-mallory"));
    let (conversation, _) = stored(store, &alice).await;
    let id = conversation.id;
    let mine = avatar_of(5000, 3);
    expect_ok(
        store.set_avatar(&alice, id, Some(mine.clone())).await,
        "set_avatar",
    );
    expect_not_found(
        store.avatar(&mallory, id).await,
        "another owner's avatar is not found",
    );
    let theirs = avatar_of(100, 4);
    expect_not_found(
        store.set_avatar(&mallory, id, Some(theirs.clone())).await,
        "setting another owner's avatar is not found",
    );
    expect_not_found(
        store.set_avatar(&mallory, id, None).await,
        "removing another owner's avatar is not found",
    );
    let read = expect_ok(store.avatar(&alice, id).await, "avatar");
    assert_eq!(read, Some(mine), "the owner's avatar is untouched");
    let missing = crate::ConversationId::new();
    expect_not_found(
        store.avatar(&alice, missing).await,
        "the avatar of a missing conversation is not found",
    );
    expect_not_found(
        store
            .set_avatar(&alice, missing, Some(theirs.clone()))
            .await,
        "setting the avatar of a missing conversation is not found",
    );
}

/// Deleting a conversation deletes its avatar: reading it is NotFound afterwards.
pub async fn delete_takes_the_avatar_with_the_conversation(store: &dyn ConversationStore) {
    let owner = unique("avatar-delete");
    let (conversation, _) = stored(store, &owner).await;
    let id = conversation.id;
    let avatar = avatar_of(MAX_AVATAR_BYTES / 2, 5);
    expect_ok(
        store.set_avatar(&owner, id, Some(avatar.clone())).await,
        "set_avatar",
    );
    assert!(expect_ok(store.delete(&owner, id).await, "delete"));
    expect_not_found(
        store.avatar(&owner, id).await,
        "the avatar of a deleted conversation is not found",
    );
}
