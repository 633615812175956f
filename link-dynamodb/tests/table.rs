//! `create_table` on moto: idempotent, on-demand, the `updated` index, time to live.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_dynamodb::types::{BillingMode, TimeToLiveStatus};
use link_core::ConversationStore;

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_table_is_idempotent_on_demand_with_an_index_and_ttl() {
    let moto = common::Moto::start();
    // Made twice by the helper: the second run changes nothing and does not fail.
    let store = common::store(&moto).await;
    store.ping().await.unwrap();
    let client = common::client(&moto);
    let table = client
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let billing = table
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .cloned();
    assert_eq!(billing, Some(BillingMode::PayPerRequest));
    let indexes: Vec<_> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    assert_eq!(indexes, ["updated"]);
    let ttl = client
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("expires"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_of_a_missing_table_is_a_storage_error() {
    let moto = common::Moto::start();
    let store = link_dynamodb::DynamoStore::new(common::client(&moto), "no-such-table");
    let err = store.ping().await.unwrap_err();
    assert!(matches!(err, link_core::Error::Storage { .. }), "{err:?}");
}
