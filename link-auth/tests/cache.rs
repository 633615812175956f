//! The verified-token cache: a token is verified once until it expires, refusals and
//! principals without an expiry are never kept, distinct tokens are distinct entries, and the
//! wrapped authenticator still passes the Authenticator suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use link_auth::{CachedAuthenticator, DevAuthenticator};
use link_core::testing::conformance::{self, Tokens};
use link_core::{Authenticator, Error, Principal, Result};
use time::OffsetDateTime;

const SECRET: &[u8] = b"token-cache-secret-of-at-least-32-bytes";

/// Accepts `good-*` tokens as the principal named after them, expiring `ttl` from now (no
/// expiry with `None`); refuses the rest; counts every call.
#[derive(Debug, Clone)]
struct Counting {
    calls: Arc<AtomicUsize>,
    ttl: Option<Duration>,
}

impl Counting {
    fn new(ttl: Option<Duration>) -> Self {
        Self {
            calls: Arc::default(),
            ttl,
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Authenticator for Counting {
    async fn authenticate(&self, token: &str) -> Result<Principal> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let sub = token
            .strip_prefix("good-")
            .ok_or_else(|| Error::unauthorized("bad token"))?;
        let mut principal = Principal::new(sub);
        principal.expires_at = self.ttl.map(|ttl| OffsetDateTime::now_utc() + ttl);
        Ok(principal)
    }
}

#[tokio::test]
async fn a_verified_token_is_answered_from_memory_until_it_expires() {
    let inner = Counting::new(Some(Duration::from_millis(300)));
    let cached = CachedAuthenticator::new(inner.clone(), 100);
    let first = cached.authenticate("good-alice").await.unwrap();
    for _ in 0..5 {
        assert_eq!(cached.authenticate("good-alice").await.unwrap(), first);
    }
    assert_eq!(inner.calls(), 1, "verified once");

    // Another token is another entry, even for the same user.
    assert_eq!(cached.authenticate("good-bob").await.unwrap().sub, "bob");
    assert_eq!(inner.calls(), 2);

    // At its expiry the entry is not used: the token is verified again.
    tokio::time::sleep(Duration::from_millis(350)).await;
    cached.authenticate("good-alice").await.unwrap();
    assert_eq!(inner.calls(), 3, "verified again after the expiry");
}

#[tokio::test]
async fn refusals_and_principals_without_an_expiry_are_never_kept() {
    let inner = Counting::new(Some(Duration::from_secs(60)));
    let cached = CachedAuthenticator::new(inner.clone(), 100);
    for _ in 0..3 {
        let refused = cached.authenticate("forged").await.unwrap_err();
        assert!(matches!(refused, Error::Unauthorized { .. }), "{refused:?}");
    }
    assert_eq!(inner.calls(), 3, "each refusal verified afresh");

    let inner = Counting::new(None);
    let cached = CachedAuthenticator::new(inner.clone(), 100);
    for _ in 0..3 {
        cached.authenticate("good-alice").await.unwrap();
    }
    assert_eq!(inner.calls(), 3, "no expiry, no caching");
}

#[tokio::test]
async fn the_cache_holds_at_most_its_capacity() {
    let inner = Counting::new(Some(Duration::from_secs(60)));
    let cached = CachedAuthenticator::new(inner.clone(), 4);
    for i in 0..100 {
        cached.authenticate(&format!("good-{i}")).await.unwrap();
    }
    let shown = format!("{cached:?}");
    let held: usize = shown
        .split("cached: ")
        .nth(1)
        .and_then(|rest| rest.trim_end_matches(" }").parse().ok())
        .unwrap();
    // quick_cache's capacity is approximate; bounded is what matters: 100 tokens, a handful kept.
    assert!(held <= 8, "{shown}");
    assert!(!shown.contains("good-"), "no token in Debug: {shown}");
}

#[tokio::test]
async fn a_cached_dev_authenticator_conforms() {
    let auth = DevAuthenticator::new(SECRET).unwrap();
    let expired = DevAuthenticator::new(SECRET)
        .unwrap()
        .with_lifetime(Duration::ZERO)
        .mint("alice")
        .unwrap();
    let valid = auth.mint("alice").unwrap();
    // The valid token's signature kept over another subject.
    let mut parts: Vec<&str> = valid.split('.').collect();
    let other = auth.mint("mallory").unwrap();
    let other_payload = other.split('.').nth(1).unwrap().to_owned();
    parts[1] = &other_payload;
    let tokens = Tokens {
        sub: "alice".into(),
        tampered: parts.join("."),
        valid,
        expired,
    };
    let cached = CachedAuthenticator::new(auth, 100);
    // Twice: the second run answers the valid token from the cache.
    conformance::authenticator(&cached, &tokens).await;
    conformance::authenticator(&cached, &tokens).await;
}
