//! What one engine turn costs DynamoDB, counted by the client: the read before the model call
//! is one round trip (a `BatchGetItem` of the conversation, the owner's totals and user
//! persona, sent together with the `Query` of the newest messages) and the write after it one
//! `TransactWriteItems`; appends from two instances commute, and a checked splice that a
//! concurrent append made stale is a conflict, decided on a fresh read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use link_core::testing::{ScriptedChatModel, ScriptedExtractor};
use link_core::{
    ConversationStore, Error, Link, Message, PersonaSource, Principal, RequestContext, Role, Splice,
};

mod common;

use common::RoundTrips;

fn engine(store: Arc<dyn ConversationStore>, replies: &[&'static str]) -> Link {
    Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(ScriptedChatModel::replying(replies.to_vec())))
        .store(store)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_reads_once_and_writes_once_and_a_stale_instance_reads_again() {
    let moto = common::Moto::start();
    let trips = RoundTrips::default();
    let store = Arc::new(common::store_on(common::counted_client(&moto, &trips)).await);
    let link = engine(store.clone(), &["Indeed.", "Quite so."]);
    let ctx = RequestContext::new(Principal::new("ada"));
    let id = link
        .create_conversation(&ctx, PersonaSource::Request("Ada".into()))
        .await
        .unwrap()
        .conversation
        .id;
    for text in ["Hello!", "And the Engine?"] {
        trips.take();
        link.send(&ctx, id, text).await.unwrap();
        assert_eq!(
            trips.take(),
            3,
            "a turn: BatchGetItem and Query at once, then one write"
        );
    }

    // A second instance (its own store) appends between this one's read and its writes. An
    // append commutes: it lands without a read. A splice that checks the newest message
    // finds the item this store remembers stale, reads it again, and lands.
    let other = link_dynamodb::DynamoStore::new(common::client(&moto), store.table());
    store.turn_state("ada", id, 20).await.unwrap();
    let between = Message::new(Role::User, "From the second instance");
    other.append("ada", id, &between).await.unwrap();
    trips.take();
    let mine = Message::new(Role::User, "From the first instance");
    store.append("ada", id, &mine).await.unwrap();
    assert_eq!(
        trips.take(),
        1,
        "an append is one transaction, whoever wrote before"
    );
    other
        .append("ada", id, &Message::new(Role::Assistant, "Both here."))
        .await
        .unwrap();
    let checked = Splice::default()
        .expect_last(store.messages("ada", id, Some(1)).await.unwrap()[0].id)
        .append(Message::new(Role::User, "Checked"));
    store.turn_state("ada", id, 20).await.unwrap();
    other
        .append("ada", id, &Message::new(Role::User, "Sneaked in"))
        .await
        .unwrap();
    let refused = store.splice("ada", id, &checked).await;
    assert!(
        matches!(refused, Err(Error::Conflict { .. })),
        "{refused:?}"
    );
    let messages = store.messages("ada", id, None).await.unwrap();
    let texts: Vec<&str> = messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts[5..],
        [
            "From the second instance",
            "From the first instance",
            "Both here.",
            "Sneaked in"
        ]
    );
    let usage = store.usage("ada", Some(id)).await.unwrap();
    assert_eq!((usage.messages, usage.conversations), (9, 1));
    let bytes = link_core::StoreUsage::bytes_of(&messages);
    assert_eq!(usage.bytes, bytes, "the owner's totals follow every write");
    let listed = store.get("ada", id).await.unwrap().unwrap();
    assert_eq!(
        listed.updated_at, messages[8].created_at,
        "the last change moved forward"
    );
}
