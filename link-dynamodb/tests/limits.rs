//! DynamoDB's limits as clear errors, and concurrent splices of one conversation, on moto.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use link_core::testing::conformance::store_avatar::avatar_of;
use link_core::{
    Conversation, ConversationStore, Error, MAX_AVATAR_BYTES, Message, Persona, PersonaKind, Role,
    Splice,
};
use link_dynamodb::{DynamoStore, MAX_ITEM_BYTES, MAX_TRANSACTION_ITEMS};

mod common;

fn conversation(owner: &str) -> Conversation {
    let persona = Persona::new("Ada", PersonaKind::Original, "A test character.", "Hello!");
    Conversation::new(owner, persona)
}

async fn created(store: &DynamoStore, owner: &str) -> (Conversation, Message) {
    let conversation = conversation(owner);
    let greeting = Message::new(Role::Assistant, "Hello!");
    store
        .create(&conversation, std::slice::from_ref(&greeting))
        .await
        .unwrap();
    (conversation, greeting)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_races() {
    // One moto for every check of this file: starting it is the slow part.
    let moto = common::Moto::start();
    let store = Arc::new(common::store(&moto).await);
    a_too_large_message_is_an_invalid_request_and_stores_nothing(&store).await;
    a_too_large_first_message_fails_the_create(&store).await;
    a_splice_beyond_one_transaction_is_an_invalid_request(&store).await;
    concurrent_splices_expecting_the_same_last_message_conflict(&store).await;
    concurrent_appends_all_land(&store).await;
    concurrent_avatar_writes_are_read_whole(&store).await;
    deleting_a_conversation_leaves_no_item_behind(&store, &common::client(&moto)).await;
}

async fn a_too_large_message_is_an_invalid_request_and_stores_nothing(store: &DynamoStore) {
    let (conversation, greeting) = created(store, "big").await;
    let huge = Message::new(Role::User, "x".repeat(MAX_ITEM_BYTES));
    let err = store
        .append_all(
            "big",
            conversation.id,
            &[Message::new(Role::User, "hi"), huge],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(err.to_string().contains("too large"), "{err}");
    let messages = store.messages("big", conversation.id, None).await.unwrap();
    assert_eq!(messages, [greeting]);
    let usage = store.usage("big", Some(conversation.id)).await.unwrap();
    assert_eq!(usage.messages, 1);

    // Just under the limit is fine.
    let large = Message::new(Role::User, "y".repeat(MAX_ITEM_BYTES - 2 * 1024));
    store.append("big", conversation.id, &large).await.unwrap();
    let last = store
        .messages("big", conversation.id, Some(1))
        .await
        .unwrap();
    assert_eq!(last, [large]);
}

async fn a_too_large_first_message_fails_the_create(store: &DynamoStore) {
    let conversation = conversation("big-create");
    let huge = Message::new(Role::Assistant, "z".repeat(MAX_ITEM_BYTES));
    let err = store.create(&conversation, &[huge]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(
        store
            .get("big-create", conversation.id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_splice_beyond_one_transaction_is_an_invalid_request(store: &DynamoStore) {
    let (conversation, greeting) = created(store, "many").await;
    let many: Vec<_> = (0..MAX_TRANSACTION_ITEMS)
        .map(|i| Message::new(Role::User, format!("m{i}")))
        .collect();
    let err = store
        .append_all("many", conversation.id, &many)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    let messages = store.messages("many", conversation.id, None).await.unwrap();
    assert_eq!(messages, [greeting]);
}

async fn concurrent_splices_expecting_the_same_last_message_conflict(store: &Arc<DynamoStore>) {
    let (conversation, greeting) = created(store, "race").await;
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let store = Arc::clone(store);
            let splice = Splice::default()
                .expect_last(greeting.id)
                .append(Message::new(Role::User, format!("turn {i}")));
            tokio::spawn(async move { store.splice("race", conversation.id, &splice).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(Error::Conflict { .. }) => {}
            Err(other) => panic!("a losing splice must be a Conflict, got {other:?}"),
        }
    }
    assert_eq!(
        won, 1,
        "exactly one splice expecting the same last message wins"
    );
    let messages = store.messages("race", conversation.id, None).await.unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0], greeting);
    let usage = store.usage("race", Some(conversation.id)).await.unwrap();
    assert_eq!(usage.messages, 2);
}

async fn concurrent_appends_all_land(store: &Arc<DynamoStore>) {
    let (conversation, _) = created(store, "appends").await;
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let store = Arc::clone(store);
            let message = Message::new(Role::User, format!("turn {i}"));
            tokio::spawn(async move { store.append("appends", conversation.id, &message).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let messages = store
        .messages("appends", conversation.id, None)
        .await
        .unwrap();
    assert_eq!(
        messages.len(),
        5,
        "appends without checks serialize, none is lost"
    );
    let usage = store.usage("appends", Some(conversation.id)).await.unwrap();
    assert_eq!(usage.messages, 5);
    assert_eq!(
        usage.bytes,
        link_core::StoreUsage::bytes_of(&messages),
        "the byte counter matches the messages"
    );
}

/// Two writers replace a multi-part avatar over and over while a reader reads it: every read
/// is one of the two avatars whole, never parts of both.
async fn concurrent_avatar_writes_are_read_whole(store: &Arc<DynamoStore>) {
    let (conversation, _) = created(store, "avatars").await;
    let id = conversation.id;
    let (a, b) = (
        avatar_of(MAX_AVATAR_BYTES, 1),
        avatar_of(MAX_AVATAR_BYTES / 3, 2),
    );
    let writers: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|avatar| {
            let store = Arc::clone(store);
            tokio::spawn(async move {
                for _ in 0..4 {
                    store
                        .set_avatar("avatars", id, Some(avatar.clone()))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let mut reads = 0;
    while writers.iter().any(|w| !w.is_finished()) {
        match store.avatar("avatars", id).await {
            Ok(read) => {
                let read = read.as_ref();
                assert!(
                    read.is_none() || read == Some(&a) || read == Some(&b),
                    "a mixed avatar"
                );
                reads += 1;
            }
            Err(err) => assert!(matches!(err, Error::Busy { .. }), "{err:?}"),
        }
    }
    for writer in writers {
        writer.await.unwrap();
    }
    assert!(reads > 0, "the reader read while the writers wrote");
    let last = store.avatar("avatars", id).await.unwrap();
    assert!(
        last == Some(a) || last == Some(b),
        "one writer's avatar is left whole"
    );
}

/// A conversation with messages and a multi-part avatar leaves no item in the owner's
/// partition once deleted but the owner's totals, back to zero.
async fn deleting_a_conversation_leaves_no_item_behind(
    store: &DynamoStore,
    client: &aws_sdk_dynamodb::Client,
) {
    let (conversation, _) = created(store, "deleted").await;
    store
        .append("deleted", conversation.id, &Message::new(Role::User, "Hi"))
        .await
        .unwrap();
    let avatar = avatar_of(MAX_AVATAR_BYTES, 7);
    store
        .set_avatar("deleted", conversation.id, Some(avatar))
        .await
        .unwrap();
    assert!(store.delete("deleted", conversation.id).await.unwrap());
    let left = client
        .query()
        .table_name(store.table())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S("O#deleted".into()),
        )
        .send()
        .await
        .unwrap();
    // Only the owner's totals are left, and they are back to zero.
    let items = left.items();
    let sks: Vec<_> = items.iter().map(|i| i.get("SK")).collect();
    assert_eq!(items.len(), 1, "items left: {sks:?}");
    let totals = &items[0];
    assert_eq!(totals["SK"].as_s().unwrap(), "S");
    assert_eq!(totals["convs"].as_n().unwrap(), "0");
    assert_eq!(totals["bytes"].as_n().unwrap(), "0");
}

/// A store whose endpoint refuses connections answers a retryable `Busy` (503 for a client),
/// once the SDK's own retries are spent, never a plain storage error.
#[tokio::test]
async fn an_unreachable_endpoint_is_busy_not_a_storage_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let store = DynamoStore::new(common::client_at(&endpoint), "link");
    let refused = store.get("ada", link_core::ConversationId::new()).await;
    assert!(
        matches!(&refused, Err(e @ Error::Busy { .. }) if e.is_retryable()),
        "{refused:?}"
    );
}
