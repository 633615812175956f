//! Creating the table: idempotent, on-demand billing, the `updated` index and time to live.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use link_core::Result;

use crate::error::{build, sdk};
use crate::keys;

/// How long to wait for a new table to become active.
const ACTIVE_WAIT: Duration = Duration::from_secs(120);

fn attribute(name: &str) -> Result<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build)
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(build)
}

/// Creates the table `name` unless it exists, waits until it is active and enables its
/// time to live on [`keys::TTL`].
pub(crate) async fn create(client: &Client, name: &str) -> Result<()> {
    let index = GlobalSecondaryIndex::builder()
        .index_name(keys::UPDATED_INDEX)
        .key_schema(key(keys::GSI1PK, KeyType::Hash)?)
        .key_schema(key(keys::GSI1SK, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(build)?;
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(keys::PK)?)
        .attribute_definitions(attribute(keys::SK)?)
        .attribute_definitions(attribute(keys::GSI1PK)?)
        .attribute_definitions(attribute(keys::GSI1SK)?)
        .key_schema(key(keys::PK, KeyType::Hash)?)
        .key_schema(key(keys::SK, KeyType::Range)?)
        .global_secondary_indexes(index)
        .send()
        .await;
    match created {
        Ok(_) => tracing::info!(table = name, "created the DynamoDB table"),
        // Already there (made by another instance or an earlier run): fine.
        Err(error) if error.code() == Some("ResourceInUseException") => {}
        Err(error) => return Err(sdk("CreateTable", error)),
    }
    wait_active(client, name).await?;
    let ttl = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|e| sdk("DescribeTimeToLive", e))?;
    let status = ttl
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status());
    if matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ) {
        return Ok(());
    }
    let spec = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(keys::TTL)
        .build()
        .map_err(build)?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(|e| sdk("UpdateTimeToLive", e))?;
    Ok(())
}

async fn wait_active(client: &Client, name: &str) -> Result<()> {
    let started = tokio::time::Instant::now();
    loop {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| sdk("DescribeTable", e))?;
        let status = described.table().and_then(|t| t.table_status());
        if matches!(status, Some(TableStatus::Active)) {
            return Ok(());
        }
        if started.elapsed() > ACTIVE_WAIT {
            return Err(link_core::Error::Timeout {
                what: format!("DynamoDB table {name} becoming active"),
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
