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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keys_of_a_file_store_conform_and_survive_a_reopen() {
    use link_core::{ApiKeyStore, IssuedApiKey};
    let (store, dir) = common::file_store().await;
    conformance::api_key_store(&store).await;
    let issued = IssuedApiKey::generate("erin", "webui");
    store.insert(&issued.key, &issued.hash()).await.unwrap();
    let path = store.path().unwrap().to_owned();
    drop(store);
    let reopened = SqliteStore::open(&path).await.unwrap();
    let found = reopened.find(&issued.hash()).await.unwrap();
    assert_eq!(found, Some(issued.key));
    drop(dir);
}

#[tokio::test]
async fn the_api_keys_of_an_in_memory_store_conform() {
    let store = SqliteStore::in_memory().await.unwrap();
    conformance::api_key_store(&store).await;
}
