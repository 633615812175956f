//! The JWKS cache: keys fetched once, refreshed only when a token names an unknown `kid`.
//!
//! Rules (as in aws-jwt-verify): a refresh for an unknown `kid` happens at most once per
//! cool-down; callers that arrive while a fetch is running wait for it instead of starting
//! their own, so a burst of tokens with a new `kid` costs one request; a failed refresh keeps
//! the key set we already had, so an outage of the JWKS endpoint does not lock out users whose
//! keys are known. Verification of a token with a known `kid` never touches the network.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{AlgorithmFamily, DecodingKey};

use crate::verify_key::VerifyKey;
use serde_json::Value;

use crate::AuthError;

/// The largest key set body we accept; real ones are a few KiB.
const MAX_JWKS_BYTES: usize = 1 << 20;

/// One verification key from the set.
#[derive(Debug)]
pub(crate) struct JwkKey {
    /// The JWK's `use`, when present.
    pub key_use: Option<String>,
    /// The JWK's `alg`, when present.
    pub alg: Option<String>,
    /// RSA, EC or Ed: the algorithms the key can verify.
    pub family: AlgorithmFamily,
    pub key: VerifyKey,
}

type KeySet = HashMap<String, Arc<JwkKey>>;

/// Bookkeeping of refreshes, guarded by the async mutex that also serialises fetches.
#[derive(Debug, Default)]
struct RefreshState {
    /// No refresh for an unknown `kid` before this instant.
    blocked_until: Option<Instant>,
}

/// A cached, lazily fetched JSON Web Key Set.
#[derive(Debug)]
pub(crate) struct JwksCache {
    url: String,
    client: reqwest::Client,
    cooldown: Duration,
    keys: RwLock<Option<Arc<KeySet>>>,
    refresh: tokio::sync::Mutex<RefreshState>,
    /// Fetch attempts so far: waiters compare it to see that someone fetched for them.
    attempts: AtomicU64,
}

impl JwksCache {
    pub fn new(url: String, cooldown: Duration, timeout: Duration) -> Result<Self, AuthError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| AuthError::Config {
                message: format!("cannot build the JWKS HTTP client: {e}"),
            })?;
        Ok(Self {
            url,
            client,
            cooldown,
            keys: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(RefreshState::default()),
            attempts: AtomicU64::new(0),
        })
    }

    fn current(&self) -> Option<Arc<KeySet>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn cached(&self, kid: &str) -> Option<Arc<JwkKey>> {
        self.current().and_then(|set| set.get(kid).cloned())
    }

    /// The key for `kid`, fetching the set when it is unknown (subject to the cool-down).
    pub async fn key(&self, kid: &str) -> Result<Arc<JwkKey>, AuthError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let seen = self.attempts.load(Ordering::Acquire);
        let mut state = self.refresh.lock().await;
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        // Someone fetched while we waited: their answer is ours too.
        if self.attempts.load(Ordering::Acquire) != seen {
            return Err(self.absent());
        }
        if let Some(until) = state.blocked_until
            && Instant::now() < until
        {
            return Err(self.absent());
        }
        let fetched = self.fetch().await;
        self.attempts.fetch_add(1, Ordering::AcqRel);
        match fetched {
            Ok(set) => {
                let found = set.get(kid).cloned();
                self.store(set);
                match found {
                    Some(key) => Ok(key),
                    None => {
                        state.blocked_until = Some(Instant::now() + self.cooldown);
                        Err(AuthError::UnknownKeyId)
                    }
                }
            }
            Err(err) => {
                // Keep whatever set we had: known keys go on verifying.
                state.blocked_until = Some(Instant::now() + self.cooldown);
                tracing::warn!(url = %self.url, error = %err, "JWKS refresh failed; keeping the cached key set");
                Err(err)
            }
        }
    }

    /// Fetches the set now (e.g. at start-up), ignoring the cool-down.
    pub async fn refresh(&self) -> Result<(), AuthError> {
        let _state = self.refresh.lock().await;
        let fetched = self.fetch().await;
        self.attempts.fetch_add(1, Ordering::AcqRel);
        self.store(fetched?);
        Ok(())
    }

    /// The error for a `kid` that is not in the set: unknown, or no set fetched at all yet.
    fn absent(&self) -> AuthError {
        if self.current().is_some() {
            AuthError::UnknownKeyId
        } else {
            AuthError::JwksUnavailable {
                message: "the key set has not been fetched yet".into(),
                status: None,
            }
        }
    }

    fn store(&self, set: KeySet) {
        tracing::debug!(url = %self.url, keys = set.len(), "JWKS fetched");
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(set));
    }

    async fn fetch(&self) -> Result<KeySet, AuthError> {
        let unavailable =
            |message: String, status: Option<u16>| AuthError::JwksUnavailable { message, status };
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| unavailable(describe(&e), None))?;
        let status = response.status();
        if !status.is_success() {
            return Err(unavailable(
                format!("JWKS endpoint answered {status}"),
                Some(status.as_u16()),
            ));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| unavailable(describe(&e), Some(status.as_u16())))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(unavailable("JWKS body too large".into(), None));
        }
        parse_key_set(&body)
    }
}

fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "JWKS fetch timed out".into()
    } else if err.is_connect() {
        "cannot connect to the JWKS endpoint".into()
    } else {
        format!("JWKS fetch failed: {err}")
    }
}

/// Parses `{"keys": [...]}`, keeping every usable public key with a `kid`. Keys we cannot use
/// (symmetric `oct` keys, unknown types) are skipped rather than failing the whole set, so one
/// exotic key does not lock everyone out.
pub(crate) fn parse_key_set(body: &[u8]) -> Result<KeySet, AuthError> {
    let invalid = |message: &str| AuthError::JwksUnavailable {
        message: format!("invalid JWKS: {message}"),
        status: None,
    };
    let document: Value = serde_json::from_slice(body).map_err(|_| invalid("not JSON"))?;
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("no keys array"))?;
    let mut set = KeySet::new();
    for entry in keys {
        if let Some((kid, key)) = parse_key(entry) {
            set.insert(kid, Arc::new(key));
        }
    }
    Ok(set)
}

fn parse_key(entry: &Value) -> Option<(String, JwkKey)> {
    let kid = entry.get("kid")?.as_str()?.to_owned();
    let family = match entry.get("kty")?.as_str()? {
        "RSA" => AlgorithmFamily::Rsa,
        "EC" => AlgorithmFamily::Ec,
        "OKP" => AlgorithmFamily::Ed,
        _ => {
            tracing::debug!(%kid, "skipping a JWK that is not an asymmetric signing key");
            return None;
        }
    };
    let text = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_owned);
    let jwk: Jwk = serde_json::from_value(entry.clone()).ok()?;
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some((
        kid,
        JwkKey {
            key_use: text("use"),
            alg: text("alg"),
            family,
            key: VerifyKey::new(key),
        },
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn symmetric_and_broken_keys_are_skipped() {
        let body = br#"{"keys":[
            {"kty":"oct","kid":"secret","k":"c2VjcmV0"},
            {"kty":"RSA","kid":"no-n","e":"AQAB"},
            {"kty":"RSA","kid":"good","use":"sig","alg":"RS256","n":"sXch","e":"AQAB"},
            {"kty":"RSA","n":"sXch","e":"AQAB"}
        ]}"#;
        let set = parse_key_set(body).unwrap();
        assert_eq!(set.keys().collect::<Vec<_>>(), vec!["good"]);
        let good = &set["good"];
        assert_eq!(good.alg.as_deref(), Some("RS256"));
        assert_eq!(good.key_use.as_deref(), Some("sig"));
        assert!(matches!(
            parse_key_set(b"[]"),
            Err(AuthError::JwksUnavailable { .. })
        ));
    }
}
