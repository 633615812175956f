//! How long one message takes to append (one write transaction, committed in WAL mode), how
//! long 32 concurrent appends take (32 tasks, one message each to its own conversation: the
//! shape of 32 clients' turns committing at once), and how long the engine's history read
//! (the newest 20 of 1000 messages) takes.
//!
//! `cargo bench -p link-store --bench append -- --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use link_core::{Conversation, ConversationStore, Message, Persona, PersonaKind, Role};
use link_store::{SqliteOptions, SqliteStore};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

const OWNER: &str = "bench-user";

async fn store_with_conversation(
    options: SqliteOptions,
    dir: &tempfile::TempDir,
) -> (SqliteStore, Conversation) {
    let store = options.open(dir.path().join("bench.db")).await.unwrap();
    let persona = Persona::new(
        "Ada Lovelace",
        PersonaKind::Historical,
        "A mathematician.",
        "Good day.",
    );
    let conversation = Conversation::new(OWNER, persona);
    store
        .create(&conversation, &[Message::new(Role::Assistant, "Good day.")])
        .await
        .unwrap();
    (store, conversation)
}

fn bench_append(c: &mut Criterion, name: &str, options: SqliteOptions) {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, conversation) = rt.block_on(store_with_conversation(options, &dir));
    let content = "Tell me about the Analytical Engine, and what it could compute.";
    c.bench_function(name, |b| {
        b.iter(|| {
            let message = Message::new(Role::User, content);
            rt.block_on(store.append(OWNER, conversation.id, &message))
                .unwrap();
        });
    });
}

/// 32 tasks each append one message to their own conversation; one iteration is the batch.
fn bench_concurrent(c: &mut Criterion, name: &str, options: SqliteOptions) {
    const CLIENTS: usize = 32;
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, first) = rt.block_on(store_with_conversation(options, &dir));
    let mut ids = vec![first.id];
    for _ in 1..CLIENTS {
        let conversation = Conversation::new(OWNER, first.persona.clone());
        rt.block_on(store.create(&conversation, &[])).unwrap();
        ids.push(conversation.id);
    }
    let content = "Tell me about the Analytical Engine, and what it could compute.";
    c.bench_function(name, |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut tasks = JoinSet::new();
                for &id in &ids {
                    let store = store.clone();
                    tasks.spawn(async move {
                        let message = Message::new(Role::User, content);
                        store.append(OWNER, id, &message).await
                    });
                }
                while let Some(appended) = tasks.join_next().await {
                    appended.unwrap().unwrap();
                }
            });
        });
    });
}

fn append(c: &mut Criterion) {
    bench_append(c, "append/synchronous_normal", SqliteOptions::default());
    bench_append(
        c,
        "append/synchronous_full",
        SqliteOptions::default().full_sync(true),
    );
    bench_concurrent(
        c,
        "append/32_concurrent_synchronous_normal",
        SqliteOptions::default(),
    );
}

fn history(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, conversation) =
        rt.block_on(store_with_conversation(SqliteOptions::default(), &dir));
    rt.block_on(async {
        for i in 0..1000 {
            let message = Message::new(Role::User, format!("message number {i}"));
            store
                .append(OWNER, conversation.id, &message)
                .await
                .unwrap();
        }
    });
    c.bench_function("messages/last_20_of_1000", |b| {
        b.iter(|| {
            let read = rt
                .block_on(store.messages(OWNER, conversation.id, Some(20)))
                .unwrap();
            assert_eq!(read.len(), 20);
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = append, history
}
criterion_main!(benches);
