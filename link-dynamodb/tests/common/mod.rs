//! A DynamoStore on a fresh table of a local moto_server (link-testkit's), never the internet,
//! and a count of the requests a client sends. Shared by the tests and the `turn` benchmark.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_dynamodb::error::BoxError;
use link_dynamodb::DynamoStore;
pub use link_testkit::moto::Moto;

/// Counts the requests a client sends (each one a round trip, unless sent at once).
#[derive(Debug, Clone, Default)]
pub struct RoundTrips(Arc<AtomicUsize>);

impl RoundTrips {
    /// The requests sent since the last call.
    pub fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

impl Intercept for RoundTrips {
    fn name(&self) -> &'static str {
        "RoundTrips"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A client of `moto` with test credentials.
pub fn client(moto: &Moto) -> Client {
    Client::from_conf(config(&moto.endpoint()).build())
}

/// A client of whatever listens at `endpoint` (or nothing), with test credentials.
pub fn client_at(endpoint: &str) -> Client {
    Client::from_conf(config(endpoint).build())
}

/// A client of `moto` whose requests `trips` counts.
pub fn counted_client(moto: &Moto, trips: &RoundTrips) -> Client {
    Client::from_conf(config(&moto.endpoint()).interceptor(trips.clone()).build())
}

fn config(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
}

/// A store on a new table (made twice: creating is idempotent).
pub async fn store(moto: &Moto) -> DynamoStore {
    store_on(client(moto)).await
}

/// A store on a new table through `client`.
pub async fn store_on(client: Client) -> DynamoStore {
    let table = format!("link-{}", link_core::ConversationId::new());
    DynamoStore::create_table(&client, &table).await.unwrap();
    DynamoStore::create_table(&client, &table).await.unwrap();
    DynamoStore::new(client, table)
}
