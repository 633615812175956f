//! The [`ConversationStore`] checks: conversations and messages kept exactly, scoped to their
//! owner, with the errors the port promises.
//!
//! Every check makes its own owners (a fresh id in the name), so the checks run in any order,
//! alone or together, and twice on one store.

use time::Duration;

use super::{expect_err, expect_ok, unique};
use crate::{
    Conversation, ConversationId, ConversationStore, Error, Message, PageRequest, Persona,
    PersonaKind, Role,
};

/// Runs every check of this module, in order.
pub async fn conversation_store(store: &dyn ConversationStore) {
    ping_succeeds(store).await;
    create_then_get_reads_back_exactly(store).await;
    get_is_owner_scoped(store).await;
    get_of_a_missing_conversation_is_none(store).await;
    duplicate_create_is_a_storage_error(store).await;
    messages_keep_order_and_content_exactly(store).await;
    messages_last_keeps_the_newest_oldest_first(store).await;
    append_all_keeps_the_order(store).await;
    append_bumps_updated_at_and_never_moves_it_back(store).await;
    list_is_most_recently_updated_first(store).await;
    list_is_owner_scoped(store).await;
    appends_to_another_owners_conversation_are_not_found(store).await;
    appends_to_a_missing_conversation_are_not_found(store).await;
    messages_of_another_owners_conversation_are_not_found(store).await;
    messages_of_a_missing_conversation_are_not_found(store).await;
    delete_is_owner_scoped(store).await;
    delete_removes_the_conversation_and_its_messages(store).await;
    super::store_controls::conversation_store_controls(store).await;
    super::store_memory::conversation_store_memory(store).await;
    super::store_avatar::conversation_store_avatar(store).await;
    super::store_turn::conversation_store_turn(store).await;
    super::store_usage::conversation_store_usage(store).await;
    super::store_tokens::conversation_store_tokens(store).await;
}

pub(super) fn conversation(owner: &str, name: &str) -> Conversation {
    let persona = Persona::new(
        name,
        PersonaKind::Original,
        "A test character. ✨",
        "Hello! 👋",
    );
    Conversation::new(owner, persona)
}

/// A message stamped `seconds` after the conversation was created, so orderings by time do
/// not depend on how fast the check runs.
pub(super) fn message_at(
    conversation: &Conversation,
    seconds: i64,
    role: Role,
    text: &str,
) -> Message {
    let mut message = Message::new(role, text);
    message.created_at = conversation.created_at + Duration::seconds(seconds);
    message
}

/// A stored conversation of `owner` with a greeting, and the greeting.
pub(super) async fn stored(store: &dyn ConversationStore, owner: &str) -> (Conversation, Message) {
    let conversation = conversation(owner, "Stored");
    let greeting = message_at(&conversation, 0, Role::Assistant, "Hello! 👋");
    let created = store
        .create(&conversation, std::slice::from_ref(&greeting))
        .await;
    expect_ok(created, "create");
    (conversation, greeting)
}

pub(super) async fn messages_of(
    store: &dyn ConversationStore,
    conversation: &Conversation,
    last: Option<usize>,
) -> Vec<Message> {
    let read = store
        .messages(&conversation.owner, conversation.id, last)
        .await;
    expect_ok(read, "messages")
}

/// The first page of `owner`'s conversations (every check makes fewer than a page).
pub(super) async fn listed(store: &dyn ConversationStore, owner: &str) -> Vec<Conversation> {
    let page = expect_ok(store.list(owner, &PageRequest::default()).await, "list");
    page.items
}

pub(super) async fn get(
    store: &dyn ConversationStore,
    owner: &str,
    id: ConversationId,
) -> Option<Conversation> {
    expect_ok(store.get(owner, id).await, "get")
}

pub(super) fn expect_not_found<T: std::fmt::Debug>(result: crate::Result<T>, rule: &str) {
    let err = expect_err(result, rule);
    assert!(
        matches!(err, Error::NotFound { .. }),
        "{rule}: expected Error::NotFound, got {err:?}"
    );
}

/// `ping` succeeds on a working store.
pub async fn ping_succeeds(store: &dyn ConversationStore) {
    expect_ok(store.ping().await, "ping");
}

/// A created conversation and its first messages read back exactly.
pub async fn create_then_get_reads_back_exactly(store: &dyn ConversationStore) {
    let alice = unique("alice");
    let (conversation, greeting) = stored(store, &alice).await;
    assert_eq!(
        get(store, &alice, conversation.id).await,
        Some(conversation.clone()),
        "a conversation must read back exactly"
    );
    assert_eq!(
        messages_of(store, &conversation, None).await,
        vec![greeting],
        "the messages given to create are stored with it"
    );
}

/// Another owner's conversation reads as `None`, exactly like a missing one.
pub async fn get_is_owner_scoped(store: &dyn ConversationStore) {
    let (conversation, _) = stored(store, &unique("alice")).await;
    assert_eq!(
        get(store, &unique("bob"), conversation.id).await,
        None,
        "get of another owner's conversation must be None"
    );
}

/// A conversation that was never created reads as `None`, not as an error.
pub async fn get_of_a_missing_conversation_is_none(store: &dyn ConversationStore) {
    assert_eq!(
        get(store, &unique("alice"), ConversationId::new()).await,
        None,
        "get of a missing conversation must be None"
    );
}

/// Creating a conversation whose id exists fails with [`Error::Storage`], for its owner and
/// for anyone else, and leaves the stored one as it was.
pub async fn duplicate_create_is_a_storage_error(store: &dyn ConversationStore) {
    let alice = unique("alice");
    let (conversation, greeting) = stored(store, &alice).await;
    let mut again = conversation.clone();
    again.persona.name = "Impostor".into();
    let other = message_at(&conversation, 1, Role::Assistant, "overwritten?");
    for owner in [alice.clone(), unique("bob")] {
        again.owner = owner;
        let err = expect_err(
            store.create(&again, std::slice::from_ref(&other)).await,
            "a duplicate create must be refused",
        );
        assert!(
            matches!(err, Error::Storage { .. }),
            "a duplicate create must be Error::Storage, got {err:?}"
        );
    }
    assert_eq!(
        get(store, &alice, conversation.id).await,
        Some(conversation.clone()),
        "a refused duplicate must leave the conversation as it was"
    );
    assert_eq!(
        messages_of(store, &conversation, None).await,
        vec![greeting],
        "a refused duplicate must not add its messages"
    );
}

/// Appended messages read back in order with their content exact (newlines, quotes,
/// non-ASCII).
pub async fn messages_keep_order_and_content_exactly(store: &dyn ConversationStore) {
    let alice = unique("alice");
    let (conversation, greeting) = stored(store, &alice).await;
    let user = message_at(
        &conversation,
        1,
        Role::User,
        "line one\nline two, \"quoted\" and 'single'",
    );
    let reply = message_at(&conversation, 2, Role::Assistant, "Reply with ünïcödé 🎩");
    for message in [&user, &reply] {
        expect_ok(
            store.append(&alice, conversation.id, message).await,
            "append",
        );
    }
    assert_eq!(
        messages_of(store, &conversation, None).await,
        vec![greeting, user, reply],
        "messages must read back in order, exact"
    );
}

/// A stored conversation of `owner` with its greeting and a turn added by `append_all`, and
/// the three messages in the order they were given.
async fn stored_with_a_turn(
    store: &dyn ConversationStore,
    owner: &str,
) -> (Conversation, Vec<Message>) {
    let (conversation, greeting) = stored(store, owner).await;
    let turn = [
        message_at(&conversation, 1, Role::User, "and then?"),
        message_at(&conversation, 2, Role::Assistant, "and then, this."),
    ];
    let appended = store.append_all(owner, conversation.id, &turn).await;
    expect_ok(appended, "append_all");
    let [user, reply] = turn;
    (conversation, vec![greeting, user, reply])
}

/// `last: Some(n)` keeps the newest `n` messages, oldest first; `n` beyond the count keeps
/// all, `0` keeps none.
pub async fn messages_last_keeps_the_newest_oldest_first(store: &dyn ConversationStore) {
    let (conversation, all) = stored_with_a_turn(store, &unique("alice")).await;
    assert_eq!(
        messages_of(store, &conversation, Some(2)).await,
        all[1..],
        "`last` keeps the newest, oldest first"
    );
    assert_eq!(
        messages_of(store, &conversation, Some(10)).await,
        all,
        "`last` beyond the count keeps every message"
    );
    assert!(
        messages_of(store, &conversation, Some(0)).await.is_empty(),
        "`last: Some(0)` keeps no message"
    );
}

/// `append_all` stores a turn in order, after the messages already there.
pub async fn append_all_keeps_the_order(store: &dyn ConversationStore) {
    let (conversation, all) = stored_with_a_turn(store, &unique("alice")).await;
    assert_eq!(
        messages_of(store, &conversation, None).await,
        all,
        "append_all keeps the order"
    );
}

/// Appending sets `updated_at` to the newest message's time; an older message never moves
/// it back.
pub async fn append_bumps_updated_at_and_never_moves_it_back(store: &dyn ConversationStore) {
    let alice = unique("alice");
    let (conversation, _) = stored(store, &alice).await;
    let later = message_at(&conversation, 60, Role::User, "later");
    expect_ok(
        store.append(&alice, conversation.id, &later).await,
        "append",
    );
    let bumped = get(store, &alice, conversation.id).await;
    assert_eq!(
        bumped.map(|c| c.updated_at),
        Some(later.created_at),
        "append must bump updated_at to the message's time"
    );

    let older = message_at(&conversation, 30, Role::Assistant, "older");
    let turn = std::slice::from_ref(&older);
    expect_ok(
        store.append_all(&alice, conversation.id, turn).await,
        "append_all",
    );
    let kept = get(store, &alice, conversation.id).await;
    assert_eq!(
        kept.map(|c| c.updated_at),
        Some(later.created_at),
        "an older message must not move updated_at back"
    );
}

/// `list` returns the owner's conversations, most recently updated first.
pub async fn list_is_most_recently_updated_first(store: &dyn ConversationStore) {
    let alice = unique("alice");
    let (first, _) = stored(store, &alice).await;
    let (second, _) = stored(store, &alice).await;
    let (third, _) = stored(store, &alice).await;
    // Bump them out of creation order: second, then first, then third.
    for (conversation, seconds) in [(&third, 10), (&first, 20), (&second, 30)] {
        let message = message_at(conversation, seconds, Role::User, "bump");
        expect_ok(
            store.append(&alice, conversation.id, &message).await,
            "append",
        );
    }
    let list = listed(store, &alice).await;
    let ids: Vec<ConversationId> = list.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        vec![second.id, first.id, third.id],
        "list must be most recently updated first"
    );
}

/// `list` shows nothing of another owner.
pub async fn list_is_owner_scoped(store: &dyn ConversationStore) {
    let alice = unique("alice");
    let (conversation, _) = stored(store, &alice).await;
    let bob = unique("bob");
    let of_bob = listed(store, &bob).await;
    assert!(of_bob.is_empty(), "list of another owner must be empty");
    let of_alice = listed(store, &alice).await;
    assert_eq!(of_alice, vec![conversation], "list of the owner");
}

/// `append` and `append_all` to another owner's conversation fail with [`Error::NotFound`]
/// and add nothing.
pub async fn appends_to_another_owners_conversation_are_not_found(store: &dyn ConversationStore) {
    let (conversation, greeting) = stored(store, &unique("alice")).await;
    let bob = unique("bob");
    let intruder = message_at(&conversation, 1, Role::User, "let me in");
    expect_not_found(
        store.append(&bob, conversation.id, &intruder).await,
        "append to another owner's conversation",
    );
    expect_not_found(
        store
            .append_all(&bob, conversation.id, std::slice::from_ref(&intruder))
            .await,
        "append_all to another owner's conversation",
    );
    assert_eq!(
        messages_of(store, &conversation, None).await,
        vec![greeting],
        "a refused append must add nothing"
    );
}

/// `append` and `append_all` to a conversation that does not exist fail with
/// [`Error::NotFound`].
pub async fn appends_to_a_missing_conversation_are_not_found(store: &dyn ConversationStore) {
    let alice = unique("alice");
    let missing = ConversationId::new();
    let message = Message::new(Role::User, "anyone there?");
    expect_not_found(
        store.append(&alice, missing, &message).await,
        "append to a missing conversation",
    );
    expect_not_found(
        store
            .append_all(&alice, missing, std::slice::from_ref(&message))
            .await,
        "append_all to a missing conversation",
    );
}

/// `messages` of another owner's conversation fail with [`Error::NotFound`].
pub async fn messages_of_another_owners_conversation_are_not_found(store: &dyn ConversationStore) {
    let (conversation, _) = stored(store, &unique("alice")).await;
    for last in [None, Some(1)] {
        expect_not_found(
            store.messages(&unique("bob"), conversation.id, last).await,
            "messages of another owner's conversation",
        );
    }
}

/// `messages` of a conversation that does not exist fail with [`Error::NotFound`] (not an
/// empty list: the caller must be able to tell "gone" from "silent").
pub async fn messages_of_a_missing_conversation_are_not_found(store: &dyn ConversationStore) {
    expect_not_found(
        store
            .messages(&unique("alice"), ConversationId::new(), None)
            .await,
        "messages of a missing conversation",
    );
}

/// `delete` of another owner's conversation returns `false` and leaves it as it was.
pub async fn delete_is_owner_scoped(store: &dyn ConversationStore) {
    let alice = unique("alice");
    let (conversation, greeting) = stored(store, &alice).await;
    let deleted = expect_ok(
        store.delete(&unique("bob"), conversation.id).await,
        "delete",
    );
    assert!(
        !deleted,
        "delete of another owner's conversation must be false"
    );
    assert_eq!(
        get(store, &alice, conversation.id).await,
        Some(conversation.clone()),
        "a refused delete must leave the conversation"
    );
    assert_eq!(
        messages_of(store, &conversation, None).await,
        vec![greeting]
    );
}

/// `delete` removes the conversation and its messages: `true` once, then `false`; afterwards
/// it is gone from `get`, `list` and `messages`.
pub async fn delete_removes_the_conversation_and_its_messages(store: &dyn ConversationStore) {
    let alice = unique("alice");
    let (conversation, _) = stored(store, &alice).await;
    let (kept, _) = stored(store, &alice).await;
    let id = conversation.id;
    assert!(
        expect_ok(store.delete(&alice, id).await, "delete"),
        "delete of an existing conversation must be true"
    );
    assert!(
        !expect_ok(store.delete(&alice, id).await, "delete"),
        "a second delete must be false"
    );
    assert_eq!(get(store, &alice, id).await, None, "get after delete");
    let remaining = listed(store, &alice).await;
    assert_eq!(
        remaining,
        vec![kept],
        "delete removes only that conversation"
    );
    expect_not_found(
        store.messages(&alice, id, None).await,
        "messages go with their conversation",
    );
}
