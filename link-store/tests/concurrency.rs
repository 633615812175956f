//! No message is lost or reordered under concurrent writers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use link_core::{Conversation, ConversationId, ConversationStore, Message};
use link_store::SqliteStore;

mod common;

const TASKS: usize = 8;
const PER_TASK: usize = 200;
const OWNER: &str = "alice";

/// Task `task` writes its even messages to `shared` and its odd ones to its own conversation.
async fn writer(store: Arc<SqliteStore>, task: usize, shared: ConversationId, own: ConversationId) {
    for j in 0..PER_TASK {
        let target = if j % 2 == 0 { shared } else { own };
        let message = common::user(&format!("{task}:{j}"));
        store.append(OWNER, target, &message).await.unwrap();
    }
}

/// Reads `shared` while the writers run: every read succeeds and never sees fewer messages.
async fn reader(store: Arc<SqliteStore>, shared: ConversationId, done: Arc<AtomicBool>) -> usize {
    let (mut seen, mut reads) = (0, 0);
    while !done.load(Ordering::Acquire) {
        let count = store.messages(OWNER, shared, None).await.unwrap().len();
        assert!(count >= seen, "a read went back in time: {count} < {seen}");
        seen = count;
        reads += 1;
        tokio::task::yield_now().await;
    }
    reads
}

/// Parses "task:j" contents and checks each task's messages appear once and in order.
fn check_order(messages: &[Message], tasks: &mut HashSet<(usize, usize)>) {
    let mut last_j = [None; TASKS];
    for message in messages.iter().skip(1) {
        let (task, j) = message.content.split_once(':').unwrap();
        let (task, j): (usize, usize) = (task.parse().unwrap(), j.parse().unwrap());
        assert!(
            last_j[task] < Some(j),
            "task {task}: message {j} out of order"
        );
        last_j[task] = Some(j);
        assert!(tasks.insert((task, j)), "message {task}:{j} stored twice");
    }
}

fn count_rows(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_writers_lose_no_message() {
    let (store, dir) = common::file_store().await;
    let store = Arc::new(store);
    let shared = common::conversation(OWNER, "Shared");
    store.create(&shared, &[common::greeting()]).await.unwrap();
    let mut own: Vec<Conversation> = Vec::new();
    for task in 0..TASKS {
        let conversation = common::conversation(OWNER, &format!("Own {task}"));
        store
            .create(&conversation, &[common::greeting()])
            .await
            .unwrap();
        own.push(conversation);
    }

    let done = Arc::new(AtomicBool::new(false));
    let reads = tokio::spawn(reader(Arc::clone(&store), shared.id, Arc::clone(&done)));
    let writers: Vec<_> = own
        .iter()
        .enumerate()
        .map(|(task, conv)| tokio::spawn(writer(Arc::clone(&store), task, shared.id, conv.id)))
        .collect();
    for handle in writers {
        handle.await.unwrap();
    }
    done.store(true, Ordering::Release);
    assert!(reads.await.unwrap() > 0);

    let mut all = HashSet::new();
    let shared_messages = store.messages(OWNER, shared.id, None).await.unwrap();
    assert_eq!(shared_messages.len(), 1 + TASKS * PER_TASK / 2);
    check_order(&shared_messages, &mut all);
    for conv in &own {
        let messages = store.messages(OWNER, conv.id, None).await.unwrap();
        assert_eq!(messages.len(), 1 + PER_TASK / 2);
        check_order(&messages, &mut all);
    }
    assert_eq!(all.len(), TASKS * PER_TASK);
    assert_eq!(
        count_rows(&dir.path().join("link.db")),
        (TASKS * PER_TASK + TASKS + 1) as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_lose_no_message() {
    // Two stores stand in for two processes: their writers contend for SQLite's file lock.
    let (first, dir) = common::file_store().await;
    let second = SqliteStore::open(dir.path().join("link.db")).await.unwrap();
    let stores = [Arc::new(first), Arc::new(second)];
    let shared = common::conversation(OWNER, "Shared");
    stores[0]
        .create(&shared, &[common::greeting()])
        .await
        .unwrap();
    let mut own = Vec::new();
    for task in 0..TASKS {
        let conversation = common::conversation(OWNER, &format!("Own {task}"));
        stores[task % 2].create(&conversation, &[]).await.unwrap();
        own.push(conversation.id);
    }

    let writers: Vec<_> = own
        .iter()
        .enumerate()
        .map(|(task, id)| tokio::spawn(writer(Arc::clone(&stores[task % 2]), task, shared.id, *id)))
        .collect();
    for handle in writers {
        handle.await.unwrap();
    }

    let mut all = HashSet::new();
    let shared_messages = stores[1].messages(OWNER, shared.id, None).await.unwrap();
    check_order(&shared_messages, &mut all);
    assert_eq!(all.len(), TASKS * PER_TASK / 2);
    assert_eq!(
        count_rows(&dir.path().join("link.db")),
        (TASKS * PER_TASK + 1) as i64
    );
}
