//! Bad files and bad inputs give clear `Error`s, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use link_core::{ConversationStore, Error, PageRequest};
use link_store::{SCHEMA_VERSION, SqliteStore};

mod common;

fn storage_message(result: Result<SqliteStore, Error>) -> String {
    match result {
        Err(Error::Storage { message }) => message,
        Err(other) => panic!("expected a storage error, got {other:?}"),
        Ok(_) => panic!("expected a storage error, the store opened"),
    }
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("link.db");
    drop(SqliteStore::open(&path).await.unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", i64::from(SCHEMA_VERSION) + 1)
            .unwrap();
    }
    let message = storage_message(SqliteStore::open(&path).await);
    let newer = format!("schema version is {}", SCHEMA_VERSION + 1);
    assert!(message.contains(&newer), "{message}");
    assert!(message.contains("upgrade link-store"), "{message}");
}

#[tokio::test]
async fn a_file_of_random_bytes_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("link.db");
    // Deterministic noise, long enough to cover SQLite's 100-byte header and first page.
    let noise: Vec<u8> = (0u32..8192)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &noise).unwrap();
    let message = storage_message(SqliteStore::open(&path).await);
    assert!(message.contains("not a SQLite database"), "{message}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        noise,
        "the file is left untouched"
    );
}

#[tokio::test]
async fn a_database_with_a_foreign_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE conversations (x INTEGER);")
            .unwrap();
    }
    let message = storage_message(SqliteStore::open(&path).await);
    assert!(message.contains("applying a schema migration"), "{message}");
}

#[tokio::test]
async fn a_directory_is_not_a_database_file() {
    let dir = tempfile::tempdir().unwrap();
    storage_message(SqliteStore::open(dir.path()).await);
}

#[tokio::test]
async fn a_parent_that_is_a_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let message = storage_message(SqliteStore::open(blocker.join("link.db")).await);
    assert!(
        message.contains("cannot create the database directory"),
        "{message}"
    );
}

#[tokio::test]
async fn a_duplicate_message_id_is_refused_and_rolls_back() {
    let (store, _dir) = common::file_store().await;
    let conversation = common::conversation("alice", "Ada");
    let greeting = common::greeting();
    store
        .create(&conversation, std::slice::from_ref(&greeting))
        .await
        .unwrap();

    let err = store
        .append("alice", conversation.id, &greeting)
        .await
        .unwrap_err();
    assert_eq!(err, Error::storage("message id already exists"));

    // A create whose messages clash stores nothing at all: it is atomic.
    let other = common::conversation("alice", "Grace");
    let err = store
        .create(&other, std::slice::from_ref(&greeting))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Storage { .. }));
    assert_eq!(store.get("alice", other.id).await.unwrap(), None);
    assert_eq!(
        store
            .messages("alice", conversation.id, None)
            .await
            .unwrap(),
        vec![greeting]
    );
}

#[tokio::test]
async fn a_timestamp_outside_the_range_is_an_invalid_request() {
    let (store, _dir) = common::file_store().await;
    let mut conversation = common::conversation("alice", "Ada");
    conversation.created_at = time::macros::datetime!(1200-01-01 0:00 UTC);
    let err = store.create(&conversation, &[]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert_eq!(store.get("alice", conversation.id).await.unwrap(), None);
}

#[tokio::test]
async fn a_corrupt_row_is_a_storage_error_not_a_panic() {
    let (store, dir) = common::file_store().await;
    let conversation = common::conversation("alice", "Ada");
    store.create(&conversation, &[]).await.unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join("link.db")).unwrap();
        conn.execute("UPDATE conversations SET persona = '{not json'", [])
            .unwrap();
    }
    let err = store.get("alice", conversation.id).await.unwrap_err();
    assert!(
        matches!(&err, Error::Storage { message } if message.contains("persona")),
        "{err:?}"
    );
    assert!(
        store
            .list("alice", &PageRequest::default())
            .await
            .map(|p| p.items)
            .is_err()
    );
}
