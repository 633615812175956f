//! The link-core conformance suite, on every way a SqliteStore can be opened.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use link_core::testing::conformance;
use link_store::{SqliteOptions, SqliteStore};

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_with_readers_conforms() {
    let (store, _dir) = common::file_store().await;
    conformance::conversation_store(&store).await;
}

#[tokio::test]
async fn file_store_without_readers_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteOptions::default()
        .readers(0)
        .open(dir.path().join("link.db"))
        .await
        .unwrap();
    conformance::conversation_store(&store).await;
}

#[tokio::test]
async fn in_memory_store_conforms() {
    let store = SqliteStore::in_memory().await.unwrap();
    assert!(store.path().is_none());
    conformance::conversation_store(&store).await;
}

#[tokio::test]
async fn the_suite_can_run_twice_on_one_store() {
    // The suite uses fresh owners each run, so leftovers of a first run must not disturb it.
    let (store, _dir) = common::file_store().await;
    conformance::conversation_store(&store).await;
    conformance::conversation_store(&store).await;
}

#[tokio::test]
async fn a_shared_store_conforms() {
    // Through link-core's Arc forward, which keeps the store's own append_all and ping.
    let store = Arc::new(SqliteStore::in_memory().await.unwrap());
    conformance::conversation_store(&store).await;
}
