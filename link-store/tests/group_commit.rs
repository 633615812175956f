//! Concurrent writes share transactions (group commit) and still each land exactly once, in
//! order, with a failing one failing alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use link_core::{ConversationId, ConversationStore, Error, Message, MessageId, Splice};
use link_store::SqliteStore;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

mod common;

const OWNER: &str = "alice";
const TASKS: usize = 64;
const CONVERSATIONS: usize = 8;
const PER_TASK: usize = 10;

async fn conversations(store: &SqliteStore, n: usize) -> Vec<ConversationId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let conversation = common::conversation(OWNER, &format!("C{i}"));
        store
            .create(&conversation, &[common::greeting()])
            .await
            .unwrap();
        ids.push(conversation.id);
    }
    ids
}

/// Task `task` appends "task:j" for each j in turn to its conversation, every other one as a
/// splice that expects the message the task read just before it.
async fn writer(store: Arc<SqliteStore>, task: usize, id: ConversationId, start: Arc<Barrier>) {
    start.wait().await;
    for j in 0..PER_TASK {
        let message = common::user(&format!("{task}:{j}"));
        if j % 2 == 0 {
            store.append(OWNER, id, &message).await.unwrap();
            continue;
        }
        // Others write to the same conversation meanwhile: retry until the read is current.
        loop {
            let last = store.messages(OWNER, id, Some(1)).await.unwrap()[0].id;
            let splice = Splice::default().expect_last(last).append(message.clone());
            match store.splice(OWNER, id, &splice).await {
                Ok(()) => break,
                Err(Error::Conflict { .. }) => tokio::task::yield_now().await,
                Err(e) => panic!("{e}"),
            }
        }
    }
}

/// Every task's messages in `messages` appear once and in order; how many there were.
fn check(messages: &[Message], seen: &mut [Vec<usize>]) -> usize {
    for message in &messages[1..] {
        let (task, j) = message.content.split_once(':').unwrap();
        let (task, j): (usize, usize) = (task.parse().unwrap(), j.parse().unwrap());
        assert_eq!(
            seen[task].len(),
            j,
            "task {task}: message {j} out of order or twice"
        );
        seen[task].push(j);
    }
    messages.len() - 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_writers_land_exactly_once_in_order() {
    let (store, _dir) = common::file_store().await;
    let store = Arc::new(store);
    let ids = conversations(&store, CONVERSATIONS).await;
    let start = Arc::new(Barrier::new(TASKS));
    let mut tasks = JoinSet::new();
    for task in 0..TASKS {
        let id = ids[task % CONVERSATIONS];
        tasks.spawn(writer(Arc::clone(&store), task, id, Arc::clone(&start)));
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let mut seen = vec![Vec::new(); TASKS];
    for id in &ids {
        let messages = store.messages(OWNER, *id, None).await.unwrap();
        assert_eq!(
            check(&messages, &mut seen),
            TASKS / CONVERSATIONS * PER_TASK
        );
        let usage = store.usage(OWNER, Some(*id)).await.unwrap();
        assert_eq!(usage.messages, messages.len());
    }
    assert!(seen.iter().all(|s| s.len() == PER_TASK));
}

/// What one of the concurrent writes of the next test does, and what it must get.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Append,
    Stale,
    Missing,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn among_concurrent_writes_a_failing_one_fails_alone() {
    let (store, _dir) = common::file_store().await;
    let store = Arc::new(store);
    let ids = conversations(&store, 32).await;
    let start = Arc::new(Barrier::new(ids.len()));
    let mut tasks = JoinSet::new();
    for (i, id) in ids.iter().copied().enumerate() {
        let kind = match i % 8 {
            3 => Kind::Stale,
            5 => Kind::Missing,
            _ => Kind::Append,
        };
        let (store, start) = (Arc::clone(&store), Arc::clone(&start));
        tasks.spawn(async move {
            let mut splice = Splice::default().append(common::user(&format!("{i}")));
            let target = match kind {
                Kind::Missing => ConversationId::new(),
                _ => id,
            };
            if kind == Kind::Stale {
                splice = splice.expect_last(MessageId::new());
            }
            start.wait().await;
            (i, kind, store.splice(OWNER, target, &splice).await)
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (i, kind, result) = done.unwrap();
        match kind {
            Kind::Append => result.unwrap(),
            Kind::Stale => assert!(matches!(result, Err(Error::Conflict { .. })), "{result:?}"),
            Kind::Missing => assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}"),
        }
        let messages = store.messages(OWNER, ids[i], None).await.unwrap();
        let expected = if kind == Kind::Append { 2 } else { 1 };
        assert_eq!(messages.len(), expected, "conversation {i} ({kind:?})");
    }
}
