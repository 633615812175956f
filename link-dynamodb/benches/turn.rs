//! The DynamoDB store's append of one message and its read of the newest 20 of 1000, against
//! a local moto_server (the emulator's speed is not DynamoDB's; the number of round trips
//! is), beside `link-store`'s SQLite figures; and the round trips of one engine turn.
//!
//! `cargo bench -p link-dynamodb --bench turn`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use link_core::testing::{ScriptedChatModel, ScriptedExtractor};
use link_core::{
    Conversation, ConversationStore, Link, Message, Persona, PersonaKind, PersonaSource, Principal,
    RequestContext, Role,
};
use link_dynamodb::DynamoStore;
use tokio::runtime::Runtime;

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Moto, RoundTrips};

const OWNER: &str = "bench-user";

/// A store on a new table with one conversation of `messages` messages.
async fn store_with_conversation(
    moto: &Moto,
    trips: &RoundTrips,
    messages: usize,
) -> (DynamoStore, Conversation) {
    let store = common::store_on(common::counted_client(moto, trips)).await;
    let persona = Persona::new(
        "Ada Lovelace",
        PersonaKind::Historical,
        "A mathematician.",
        "Good day.",
    );
    let conversation = Conversation::new(OWNER, persona);
    let greeting = Message::new(Role::Assistant, "Good day.");
    store.create(&conversation, &[greeting]).await.unwrap();
    let history: Vec<_> = (1..messages)
        .map(|i| Message::new(Role::User, format!("message number {i}")))
        .collect();
    for chunk in history.chunks(90) {
        store
            .append_all(OWNER, conversation.id, chunk)
            .await
            .unwrap();
    }
    trips.take();
    (store, conversation)
}

fn dynamodb(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let moto = Moto::start();
    let trips = RoundTrips::default();
    let (store, conversation) = rt.block_on(store_with_conversation(&moto, &trips, 1000));
    let content = "Tell me about the Analytical Engine, and what it could compute.";

    let mut group = c.benchmark_group("dynamodb");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.bench_function("append", |b| {
        b.iter(|| {
            let message = Message::new(Role::User, content);
            rt.block_on(store.append(OWNER, conversation.id, &message))
                .unwrap();
        });
    });
    group.bench_function("messages/last_20_of_1000", |b| {
        b.iter(|| {
            let read = rt
                .block_on(store.messages(OWNER, conversation.id, Some(20)))
                .unwrap();
            assert_eq!(read.len(), 20);
        });
    });
    group.finish();

    // Round trips, counted by the client: one append, one read, one whole engine turn.
    trips.take();
    let message = Message::new(Role::User, content);
    rt.block_on(store.append(OWNER, conversation.id, &message))
        .unwrap();
    let append = trips.take();
    rt.block_on(store.messages(OWNER, conversation.id, Some(20)))
        .unwrap();
    let read = trips.take();
    let engine = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(ScriptedChatModel::replying(["Indeed."])))
        .store(Arc::new(store.clone()))
        .build()
        .unwrap();
    let ctx = RequestContext::new(Principal::new("turn-user"));
    let started = rt
        .block_on(engine.create_conversation(&ctx, PersonaSource::Request("Ada".into())))
        .unwrap();
    trips.take();
    rt.block_on(engine.send(&ctx, started.conversation.id, "Hello!"))
        .unwrap();
    let turn = trips.take();
    println!("round trips: append {append}, read newest 20 {read}, one engine turn (send) {turn}");
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = dynamodb
}
criterion_main!(benches);
