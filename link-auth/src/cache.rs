//! [`CachedAuthenticator`]: a verified token is not verified again until it expires.

use std::fmt;

use async_trait::async_trait;
use link_core::{Authenticator, Principal, Result};
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// How many verified tokens [`CachedAuthenticator::new`] keeps by default.
pub const DEFAULT_TOKEN_CACHE: usize = 10_000;

/// Wraps an [`Authenticator`] so that a token it accepted is answered from memory until the
/// token's own expiry: an RS256 signature check costs about 0.3 M instructions, a turn with
/// it about 1.4 M.
///
/// - The key is the token's SHA-256, never the token: a memory dump does not give tokens
///   away, and a token that differs in one byte is verified afresh.
/// - Only acceptances are kept, and only for principals with an expiry
///   ([`Principal::expires_at`]); an entry is never used at or after that instant, so a
///   cached token expires exactly as a verified one does. Refusals are never cached.
/// - The cache holds about `capacity` entries (quick_cache's bound; the least useful go
///   first), so a flood of distinct valid tokens costs bounded memory.
///
/// What it cannot do, like any stateless JWT check: notice a token revoked before its
/// expiry (Cognito's revocation is checked by Cognito's own APIs, not by signatures).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use link_auth::{CachedAuthenticator, DevAuthenticator};
/// use link_core::Authenticator;
///
/// let dev = DevAuthenticator::new(b"a-secret-of-at-least-32-bytes-long!!")?;
/// let token = dev.mint("alice")?;
/// let cached = CachedAuthenticator::new(dev, 100);
/// let first = cached.authenticate(&token).await?;
/// assert_eq!(cached.authenticate(&token).await?, first);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct CachedAuthenticator<A> {
    inner: A,
    verified: Cache<[u8; 32], Principal>,
}

impl<A: Authenticator> CachedAuthenticator<A> {
    /// Wraps `inner`, keeping up to `capacity` verified tokens (at least one).
    pub fn new(inner: A, capacity: usize) -> Self {
        Self {
            inner,
            verified: Cache::new(capacity.max(1)),
        }
    }
}

impl<A: fmt::Debug> fmt::Debug for CachedAuthenticator<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedAuthenticator")
            .field("inner", &self.inner)
            .field("cached", &self.verified.len())
            .finish()
    }
}

#[async_trait]
impl<A: Authenticator> Authenticator for CachedAuthenticator<A> {
    async fn authenticate(&self, token: &str) -> Result<Principal> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = OffsetDateTime::now_utc();
        if let Some(principal) = self.verified.get(&key) {
            if principal.expires_at.is_some_and(|at| now < at) {
                return Ok(principal);
            }
            self.verified.remove(&key);
        }
        let principal = self.inner.authenticate(token).await?;
        if principal.expires_at.is_some_and(|at| now < at) {
            self.verified.insert(key, principal.clone());
        }
        Ok(principal)
    }
}
