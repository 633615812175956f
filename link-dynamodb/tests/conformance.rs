//! The link-core store conformance suite, every rule, on a DynamoStore against moto.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use link_core::testing::conformance;

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_store_conforms() {
    let moto = common::Moto::start();
    let store = common::store(&moto).await;
    conformance::conversation_store(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_can_run_twice_on_one_table_through_an_arc() {
    let moto = common::Moto::start();
    let store = Arc::new(common::store(&moto).await);
    conformance::conversation_store(&store).await;
    conformance::conversation_store(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_api_keys_conform_beside_the_conversations() {
    let moto = common::Moto::start();
    let store = common::store(&moto).await;
    let keys = link_dynamodb::DynamoApiKeys::new(common::client(&moto), store.table());
    conformance::api_key_store(&keys).await;
    // The conversations of the owners whose partitions now hold key items still conform.
    conformance::conversation_store(&store).await;
}
