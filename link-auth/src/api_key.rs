//! [`ApiKeyAuthenticator`]: accepts Link API keys besides whatever tokens another
//! authenticator accepts.

use std::sync::Arc;

use async_trait::async_trait;
use link_core::{
    ApiKeyStore, Authenticator, Error, Principal, Result, TokenUse, hash_api_key, is_api_key,
};

/// Wraps an [`Authenticator`] (Cognito, OIDC, dev) so that a bearer token that is a Link API
/// key (`lk_…`, see [`link_core::ApiKey`]) is looked up by its SHA-256 in an
/// [`ApiKeyStore`] instead: a known key is its owner, with no groups and
/// [`TokenUse::ApiKey`]; an unknown or revoked one is refused. Every other token goes to the
/// wrapped authenticator. A key is looked up on every request, so a revoked key stops working
/// at once.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use link_auth::{ApiKeyAuthenticator, DevAuthenticator};
/// use link_core::{ApiKeyStore, Authenticator, IssuedApiKey, MemoryApiKeys};
///
/// let keys = Arc::new(MemoryApiKeys::default());
/// let issued = IssuedApiKey::generate("alice", "webui");
/// keys.insert(&issued.key, &issued.hash()).await?;
/// let dev = DevAuthenticator::new(b"a-secret-of-at-least-32-bytes-long!!")?;
/// let auth = ApiKeyAuthenticator::new(Arc::new(dev), keys.clone());
/// assert_eq!(auth.authenticate(&issued.secret).await?.sub, "alice");
/// keys.revoke("alice", &issued.key.id).await?;
/// assert!(auth.authenticate(&issued.secret).await.is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ApiKeyAuthenticator {
    inner: Arc<dyn Authenticator>,
    keys: Arc<dyn ApiKeyStore>,
}

impl ApiKeyAuthenticator {
    /// Accepts the keys in `keys`, and what `inner` accepts.
    pub fn new(inner: Arc<dyn Authenticator>, keys: Arc<dyn ApiKeyStore>) -> Self {
        Self { inner, keys }
    }
}

#[async_trait]
impl Authenticator for ApiKeyAuthenticator {
    async fn authenticate(&self, token: &str) -> Result<Principal> {
        if !is_api_key(token) {
            return self.inner.authenticate(token).await;
        }
        let Some(key) = self.keys.find(&hash_api_key(token)).await? else {
            return Err(Error::unauthorized("unknown or revoked API key"));
        };
        let mut principal = Principal::new(key.owner);
        principal.token_use = Some(TokenUse::ApiKey);
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DevAuthenticator;
    use link_core::{IssuedApiKey, MemoryApiKeys};

    const SECRET: &[u8] = b"a-secret-of-at-least-32-bytes-long!!";

    #[tokio::test]
    async fn keys_and_tokens_are_both_accepted_and_a_bad_key_is_refused() {
        let keys = Arc::new(MemoryApiKeys::default());
        let issued = IssuedApiKey::generate("alice", "webui");
        keys.insert(&issued.key, &issued.hash()).await.unwrap();
        let dev = DevAuthenticator::new(SECRET).unwrap();
        let token = dev.mint("bob").unwrap();
        let auth = ApiKeyAuthenticator::new(Arc::new(dev), keys.clone());
        let alice = auth.authenticate(&issued.secret).await.unwrap();
        assert_eq!(
            (alice.sub.as_str(), alice.token_use),
            ("alice", Some(TokenUse::ApiKey))
        );
        assert!(alice.groups.is_empty());
        let bob = auth.authenticate(&token).await.unwrap();
        assert_ne!(bob.token_use, Some(TokenUse::ApiKey));
        // The key with its last character changed (to one it is not: a key may end in '0').
        let (kept, last) = issued.secret.split_at(issued.secret.len() - 1);
        let forged = format!("{kept}{}", if last == "0" { '1' } else { '0' });
        let refused = auth.authenticate(&forged).await.unwrap_err();
        assert!(matches!(refused, Error::Unauthorized { .. }));
        assert!(!refused.to_string().contains(&forged));
    }
}
