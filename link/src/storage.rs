//! The conversation store and the per-user rate limiter the settings name: SQLite or
//! DynamoDB, in memory or in DynamoDB. A backend whose cargo feature is off is a
//! configuration error that names the feature.

use std::sync::Arc;

use link_core::{ApiKeyStore, ConversationStore, Error, RateLimiter, Result};

use crate::config::{RateLimitStore, StoreBackend};
use crate::{Config, per_minute};

impl Config {
    /// Opens the conversation store these settings name ([`store_backend`](Self::store_backend)):
    /// SQLite at [`database_path`](Self::database_path) (feature `sqlite`; in memory, with a
    /// warning, in a build without it), or the DynamoDB table of
    /// [`dynamodb_table`](Self::dynamodb_table) (feature `dynamodb`), which must exist: a
    /// missing one is [`Error::Config`] naming the table and the command that makes it.
    pub async fn store(&self) -> Result<Arc<dyn ConversationStore>> {
        Ok(self.stores().await?.0)
    }

    /// Opens the conversation store ([`store`](Self::store)) and, in the same place, where
    /// API keys are kept: one SQLite file (one set of connections for both), the same
    /// DynamoDB table, or memory in a build without `sqlite`.
    pub async fn stores(&self) -> Result<Stores> {
        match self.store_backend {
            StoreBackend::Sqlite => sqlite(self).await,
            StoreBackend::Dynamodb => dynamodb_store(self).await,
        }
    }

    /// The per-user limiter: `rate_limit_per_minute` requests a minute, all of them at once
    /// if the user has been quiet, and `daily_tokens` model tokens a day if set; counted in
    /// this process, or in the DynamoDB table across instances
    /// ([`rate_limit_store`](Self::rate_limit_store)).
    pub async fn rate_limiter(&self) -> Result<Arc<dyn RateLimiter>> {
        match self.rate_limit_store {
            RateLimitStore::Memory => {
                let limiter =
                    per_minute(self.rate_limit_per_minute)?.with_daily_tokens(self.daily_tokens);
                Ok(Arc::new(limiter))
            }
            RateLimitStore::Dynamodb => dynamodb_limiter(self).await,
        }
    }
}

/// A conversation store and the API key store beside it.
pub type Stores = (Arc<dyn ConversationStore>, Arc<dyn ApiKeyStore>);

#[cfg(feature = "sqlite")]
async fn sqlite(config: &Config) -> Result<Stores> {
    let store = Arc::new(link_store::SqliteStore::open(&config.database_path()).await?);
    Ok((store.clone(), store))
}

#[cfg(not(feature = "sqlite"))]
async fn sqlite(_config: &Config) -> Result<Stores> {
    tracing::warn!("built without the `sqlite` feature: conversations live in memory only");
    let keys: Arc<dyn ApiKeyStore> = Arc::new(link_core::MemoryApiKeys::default());
    Ok((Arc::new(link_core::MemoryStore::default()), keys))
}

#[cfg(feature = "dynamodb")]
async fn dynamodb_store(config: &Config) -> Result<Stores> {
    use link_core::ConversationStore as _;
    let table = config.dynamodb_table()?;
    let client = link_dynamodb::client_from_env().await;
    let keys = Arc::new(link_dynamodb::DynamoApiKeys::new(client.clone(), table));
    let store = link_dynamodb::DynamoStore::new(client, table);
    store.ping().await.map_err(|error| Error::Config {
        message: format!(
            "LINK_STORE=dynamodb: the table {table} cannot be reached ({error}); make it with \
             `link-server admin create-table --table {table}`, and check the AWS region and \
             credentials (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_DYNAMODB)"
        ),
    })?;
    let max = usize::try_from(config.dynamodb_max_concurrency).unwrap_or(usize::MAX);
    Ok((Arc::new(link_core::LimitStore::new(store, max)), keys))
}

#[cfg(feature = "dynamodb")]
async fn dynamodb_limiter(config: &Config) -> Result<Arc<dyn RateLimiter>> {
    let table = config.dynamodb_table()?;
    let limiter = link_dynamodb::DynamoRateLimiter::new(
        link_dynamodb::client_from_env().await,
        table,
        config.rate_limit_per_minute,
        std::time::Duration::from_secs(60),
    )?
    .with_daily_tokens(config.daily_tokens)
    .with_timeout(std::time::Duration::from_millis(config.rate_limit_wait_ms));
    Ok(Arc::new(limiter))
}

#[cfg(not(feature = "dynamodb"))]
async fn dynamodb_store(_config: &Config) -> Result<Stores> {
    Err(not_built("LINK_STORE=dynamodb"))
}

#[cfg(not(feature = "dynamodb"))]
async fn dynamodb_limiter(_config: &Config) -> Result<Arc<dyn RateLimiter>> {
    Err(not_built("LINK_RATE_LIMIT_STORE=dynamodb"))
}

#[cfg(not(feature = "dynamodb"))]
fn not_built(setting: &str) -> Error {
    Error::Config {
        message: format!("{setting} is not in this build: enable link's `dynamodb` cargo feature"),
    }
}
