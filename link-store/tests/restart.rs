//! Conversations survive closing and reopening the database file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use link_core::{ConversationStore, PageRequest};
use link_store::SqliteStore;

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("link.db");

    let first = common::conversation("alice", "Ada");
    let second = common::conversation("alice", "Grace");
    let mut expected = vec![common::greeting()];
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.create(&first, &expected).await.unwrap();
        store.create(&second, &[]).await.unwrap();
        for i in 0..5 {
            let message = common::user(&format!("message {i}"));
            store.append("alice", first.id, &message).await.unwrap();
            expected.push(message);
        }
        assert!(store.delete("alice", second.id).await.unwrap());
    }
    assert!(
        path.exists(),
        "open creates the parent directories and the file"
    );

    let store = SqliteStore::open(&path).await.unwrap();
    store.ping().await.unwrap();
    let listed = store
        .list("alice", &PageRequest::default())
        .await
        .map(|p| p.items)
        .unwrap();
    assert_eq!(listed.len(), 1, "the deleted conversation stays deleted");
    let reloaded = store.get("alice", first.id).await.unwrap().unwrap();
    assert_eq!(reloaded.persona, first.persona);
    assert_eq!(reloaded.created_at, first.created_at);
    assert!(reloaded.updated_at >= expected.last().unwrap().created_at);
    assert_eq!(listed[0], reloaded);
    assert_eq!(
        store.messages("alice", first.id, None).await.unwrap(),
        expected
    );

    // And the reopened store keeps working.
    let later = common::user("after the restart");
    store.append("alice", first.id, &later).await.unwrap();
    let newest = store.messages("alice", first.id, Some(1)).await.unwrap();
    assert_eq!(newest, vec![later]);
}
