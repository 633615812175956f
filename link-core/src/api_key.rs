//! Long-lived API keys: what a chat client that cannot sign in (an OpenAI SDK, Open WebUI,
//! SillyTavern) sends as its bearer token instead of a short-lived JWT.
//!
//! A key is `lk_` and 64 hex digits of randomness from the operating system (two v4 UUIDs'
//! worth, 244 bits): long enough that it is never guessed, so one SHA-256 of it is all that
//! is kept ([`ApiKeyStore`] never sees the key itself). It is shown once, when it is made; it
//! belongs to one user and acts as that user, under that user's rate limit and quotas.

use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{Error, Result};

/// How every Link API key starts, so that it is recognised (by the authenticator, and by
/// secret scanners) and never mistaken for a JWT.
pub const API_KEY_PREFIX: &str = "lk_";

/// The most keys one user may hold at once.
pub const MAX_API_KEYS_PER_USER: usize = 20;

/// The most characters of a key's name.
pub const MAX_API_KEY_NAME_CHARS: usize = 100;

/// What is known of a key once it is made: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Its id, to list and revoke it by.
    pub id: String,
    /// The subject of the user it acts as.
    pub owner: String,
    /// The name its owner gave it ("Open WebUI at home").
    pub name: String,
    /// Its first characters, so its owner can tell which one a client holds.
    pub hint: String,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A key just made: its record, and the key itself, which is shown this once.
#[derive(Debug, Clone)]
pub struct IssuedApiKey {
    /// What is stored of it.
    pub key: ApiKey,
    /// The key, to give to the client.
    pub secret: String,
}

impl IssuedApiKey {
    /// A new random key named `name` for `owner`.
    pub fn generate(owner: &str, name: &str) -> Self {
        let random = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let secret = format!("{API_KEY_PREFIX}{random}");
        let key = ApiKey {
            id: uuid::Uuid::now_v7().to_string(),
            owner: owner.to_owned(),
            name: name.to_owned(),
            hint: secret.chars().take(API_KEY_PREFIX.len() + 6).collect(),
            created_at: crate::now(),
        };
        Self { key, secret }
    }

    /// The hash the store keeps of this key.
    pub fn hash(&self) -> String {
        hash_api_key(&self.secret)
    }
}

/// Whether `token` looks like a Link API key (and not a JWT).
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(API_KEY_PREFIX)
}

/// The SHA-256 of `secret`, in hex: what is stored and looked up.
///
/// ```
/// let hash = link_core::hash_api_key("lk_abc");
/// assert_eq!(hash.len(), 64);
/// assert_ne!(hash, link_core::hash_api_key("lk_abd"));
/// ```
pub fn hash_api_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A key's name checked: not blank, not too long, no control characters.
pub fn validate_api_key_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("the key needs a name"));
    }
    if name.chars().count() > MAX_API_KEY_NAME_CHARS {
        return Err(Error::invalid(format!(
            "the key's name is too long: at most {MAX_API_KEY_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("the key's name has control characters"));
    }
    Ok(name)
}

/// Where API keys are kept: by the hash of the key, each under its owner.
#[async_trait]
pub trait ApiKeyStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores `key` under `hash` (the SHA-256 of the key, [`hash_api_key`]).
    async fn insert(&self, key: &ApiKey, hash: &str) -> Result<()>;

    /// The key whose hash is `hash`, if it exists and was not revoked.
    async fn find(&self, hash: &str) -> Result<Option<ApiKey>>;

    /// `owner`'s keys, oldest first.
    async fn list(&self, owner: &str) -> Result<Vec<ApiKey>>;

    /// Revokes `owner`'s key `id`; `false` when `owner` has no such key.
    async fn revoke(&self, owner: &str, id: &str) -> Result<bool>;
}

/// API keys in memory: for tests and for a server without storage.
#[derive(Debug, Default)]
pub struct MemoryApiKeys {
    keys: Mutex<Vec<(ApiKey, String)>>,
}

impl MemoryApiKeys {
    fn keys(&self) -> Result<std::sync::MutexGuard<'_, Vec<(ApiKey, String)>>> {
        self.keys
            .lock()
            .map_err(|_| Error::storage("the API key table is poisoned"))
    }
}

#[async_trait]
impl ApiKeyStore for MemoryApiKeys {
    async fn insert(&self, key: &ApiKey, hash: &str) -> Result<()> {
        let mut keys = self.keys()?;
        if keys.iter().any(|(k, h)| k.id == key.id || h == hash) {
            return Err(Error::Conflict {
                message: "that API key exists already".to_owned(),
            });
        }
        keys.push((key.clone(), hash.to_owned()));
        Ok(())
    }

    async fn find(&self, hash: &str) -> Result<Option<ApiKey>> {
        let keys = self.keys()?;
        Ok(keys.iter().find(|(_, h)| h == hash).map(|(k, _)| k.clone()))
    }

    async fn list(&self, owner: &str) -> Result<Vec<ApiKey>> {
        let keys = self.keys()?;
        Ok(keys
            .iter()
            .filter(|(k, _)| k.owner == owner)
            .map(|(k, _)| k.clone())
            .collect())
    }

    async fn revoke(&self, owner: &str, id: &str) -> Result<bool> {
        let mut keys = self.keys()?;
        let before = keys.len();
        keys.retain(|(k, _)| !(k.owner == owner && k.id == id));
        Ok(keys.len() < before)
    }
}

#[async_trait]
impl<T: ApiKeyStore + ?Sized> ApiKeyStore for std::sync::Arc<T> {
    async fn insert(&self, key: &ApiKey, hash: &str) -> Result<()> {
        (**self).insert(key, hash).await
    }

    async fn find(&self, hash: &str) -> Result<Option<ApiKey>> {
        (**self).find(hash).await
    }

    async fn list(&self, owner: &str) -> Result<Vec<ApiKey>> {
        (**self).list(owner).await
    }

    async fn revoke(&self, owner: &str, id: &str) -> Result<bool> {
        (**self).revoke(owner, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_recognisable() {
        let a = IssuedApiKey::generate("alice", "webui");
        let b = IssuedApiKey::generate("alice", "webui");
        assert!(is_api_key(&a.secret));
        assert_eq!(a.secret.len(), API_KEY_PREFIX.len() + 64);
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(&a.key.hint));
        assert_eq!(a.hash(), hash_api_key(&a.secret));
        assert!(!is_api_key("eyJhbGciOi.x.y"));
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(validate_api_key_name(" webui ").unwrap(), "webui");
        assert!(validate_api_key_name("  ").is_err());
        assert!(validate_api_key_name("a\nb").is_err());
        assert!(validate_api_key_name(&"x".repeat(101)).is_err());
    }

    #[tokio::test]
    async fn the_memory_store_passes_the_conformance_rules() {
        crate::testing::conformance::api_key_store(&MemoryApiKeys::default()).await;
    }
}
