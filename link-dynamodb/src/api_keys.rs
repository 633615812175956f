//! [`DynamoApiKeys`]: Link's API keys ([`ApiKeyStore`]) in the same DynamoDB table as the
//! conversations.
//!
//! | item | `PK` | `SK` | holds |
//! |---|---|---|---|
//! | key by hash | `K#{sha256 hex}` | `K` | id, owner, name, hint, created |
//! | key by owner | `O#{owner}` | `K#{created nanos, padded}#{id}` | the same and the hash |
//!
//! A request with a key reads the first with one strongly consistent `GetItem`; listing
//! reads the second with one `Query` of the owner's partition. Both are written, and
//! removed, together in one transaction, so a revoked key is gone from both at once.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use link_core::{ApiKey, ApiKeyStore, Error, Result};
use time::OffsetDateTime;

use crate::codec::{Item, key, n, s, string as text};
use crate::error::{build, sdk};
use crate::keys::{PK, SK, owner as owner_partition};

/// The sort key of the item found by hash.
const BY_HASH: &str = "K";

/// Added to nanosecond times so they sort as fixed-width text.
const NANOS_OFFSET: i128 = 10_i128.pow(30);

/// API keys in a DynamoDB table made by
/// [`DynamoStore::create_table`](crate::DynamoStore::create_table).
#[derive(Debug, Clone)]
pub struct DynamoApiKeys {
    client: Client,
    table: String,
}

impl DynamoApiKeys {
    /// API keys in `table`, through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn put(&self, item: Item, condition: bool) -> Result<TransactWriteItem> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if condition {
            put = put.condition_expression("attribute_not_exists(PK)");
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build)?)
            .build())
    }

    fn delete(&self, pk: String, sk: String) -> Result<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .build()
            .map_err(build)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Every key item in `owner`'s partition.
    async fn owner_items(&self, owner: &str) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :k)")
                .expression_attribute_values(":pk", s(owner_partition(owner)))
                .expression_attribute_values(":k", s("K#"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk("Query", e))?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

#[async_trait]
impl ApiKeyStore for DynamoApiKeys {
    async fn insert(&self, key: &ApiKey, hash: &str) -> Result<()> {
        let by_hash = fields(key, hash, by_hash(hash), BY_HASH.to_owned());
        let by_owner = fields(key, hash, owner_partition(&key.owner), owner_sort(key));
        let items = vec![self.put(by_hash, true)?, self.put(by_owner, true)?];
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(error) if error.code() == Some("TransactionCanceledException") => {
                Err(Error::Conflict {
                    message: "that API key exists already".to_owned(),
                })
            }
            Err(error) => Err(sdk("TransactWriteItems", error)),
        }
    }

    async fn find(&self, hash: &str) -> Result<Option<ApiKey>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(by_hash(hash), BY_HASH.to_owned())))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk("GetItem", e))?;
        output.item.as_ref().map(api_key).transpose()
    }

    async fn list(&self, owner: &str) -> Result<Vec<ApiKey>> {
        self.owner_items(owner).await?.iter().map(api_key).collect()
    }

    async fn revoke(&self, owner: &str, id: &str) -> Result<bool> {
        let items = self.owner_items(owner).await?;
        let Some(item) = items.iter().find(|i| text(i, "id").ok() == Some(id)) else {
            return Ok(false);
        };
        let hash = text(item, "hash")?.to_owned();
        let sort = text(item, SK)?.to_owned();
        let deletes = vec![
            self.delete(by_hash(&hash), BY_HASH.to_owned())?,
            self.delete(owner_partition(owner), sort)?,
        ];
        self.client
            .transact_write_items()
            .set_transact_items(Some(deletes))
            .send()
            .await
            .map_err(|e| sdk("TransactWriteItems", e))?;
        Ok(true)
    }
}

fn by_hash(hash: &str) -> String {
    format!("K#{hash}")
}

/// `K#{created nanos}#{id}`: an owner's keys sort oldest first.
fn owner_sort(key: &ApiKey) -> String {
    let nanos = key.created_at.unix_timestamp_nanos() + NANOS_OFFSET;
    format!("K#{nanos:031}#{}", key.id)
}

fn fields(key: &ApiKey, hash: &str, pk: String, sk: String) -> Item {
    Item::from([
        (PK.to_owned(), s(pk)),
        (SK.to_owned(), s(sk)),
        ("id".to_owned(), s(key.id.clone())),
        ("owner".to_owned(), s(key.owner.clone())),
        ("name".to_owned(), s(key.name.clone())),
        ("hint".to_owned(), s(key.hint.clone())),
        ("hash".to_owned(), s(hash)),
        (
            "created".to_owned(),
            n(key.created_at.unix_timestamp_nanos()),
        ),
    ])
}

fn api_key(item: &Item) -> Result<ApiKey> {
    let created = match item.get("created") {
        Some(AttributeValue::N(number)) => number.parse::<i128>().ok(),
        _ => None,
    };
    let created_at = created
        .and_then(|nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok())
        .ok_or_else(|| Error::storage("corrupt API key item: bad created"))?;
    Ok(ApiKey {
        id: text(item, "id")?.to_owned(),
        owner: text(item, "owner")?.to_owned(),
        name: text(item, "name")?.to_owned(),
        hint: text(item, "hint")?.to_owned(),
        created_at,
    })
}
