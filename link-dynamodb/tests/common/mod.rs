//! A DynamoStore on a fresh table of a local moto_server (link-testkit's), never the internet.
#![allow(dead_code)]

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use link_dynamodb::DynamoStore;
pub use link_testkit::moto::Moto;

/// A client of `moto` with test credentials.
pub fn client(moto: &Moto) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    Client::from_conf(config)
}

/// A store on a new table (made twice: creating is idempotent).
pub async fn store(moto: &Moto) -> DynamoStore {
    let client = client(moto);
    let table = format!("link-{}", uuid_like());
    DynamoStore::create_table(&client, &table).await.unwrap();
    DynamoStore::create_table(&client, &table).await.unwrap();
    DynamoStore::new(client, table)
}

fn uuid_like() -> String {
    link_core::ConversationId::new().to_string()
}
