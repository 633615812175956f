//! link-core's Authenticator and RateLimiter suites on every authenticator and limiter here:
//! dev tokens, Cognito and general OIDC tokens against keys served on loopback, and the
//! governor limiter on a fake and on the real clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use link_auth::clock::FakeRelativeClock;
use link_auth::{
    CognitoAuthenticator, CognitoTokenUse, DevAuthenticator, GovernorRateLimiter,
    JwksAuthenticator, RateLimitConfig,
};
use link_core::testing::conformance::{self, Tokens};
use serde_json::{Value, json};

const SECRET: &[u8] = b"conformance-secret-of-at-least-32-bytes";

/// `token` with its payload's `sub` changed to another user's and the signature kept: what
/// an attacker editing a token they hold would send.
fn tampered(token: &str) -> String {
    let [header, payload, signature]: [&str; 3] =
        token.split('.').collect::<Vec<_>>().try_into().unwrap();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sub"] = json!("mallory");
    let payload = b64(serde_json::to_vec(&claims).unwrap());
    format!("{header}.{payload}.{signature}")
}

/// The suite's tokens from a valid and an expired token for `sub`.
fn tokens(sub: &str, valid: String, expired: String) -> Tokens {
    Tokens {
        sub: sub.into(),
        tampered: tampered(&valid),
        valid,
        expired,
    }
}

#[tokio::test]
async fn the_dev_authenticator_conforms() {
    let auth = DevAuthenticator::new(SECRET).unwrap();
    let short_lived = DevAuthenticator::new(SECRET)
        .unwrap()
        .with_lifetime(Duration::ZERO);
    let tokens = tokens(
        "alice",
        auth.mint("alice").unwrap(),
        short_lived.mint("alice").unwrap(),
    );
    conformance::authenticator(&auth, &tokens).await;
}

#[tokio::test]
async fn the_api_key_decorator_conforms_for_the_tokens_it_passes_on() {
    let dev = DevAuthenticator::new(SECRET).unwrap();
    let short_lived = DevAuthenticator::new(SECRET)
        .unwrap()
        .with_lifetime(Duration::ZERO);
    let tokens = tokens(
        "alice",
        dev.mint("alice").unwrap(),
        short_lived.mint("alice").unwrap(),
    );
    let keys = std::sync::Arc::new(link_core::MemoryApiKeys::default());
    let auth = link_auth::ApiKeyAuthenticator::new(std::sync::Arc::new(dev), keys);
    conformance::authenticator(&auth, &tokens).await;
}

#[tokio::test]
async fn the_cognito_authenticator_conforms_for_id_and_access_tokens() {
    let server = JwksServer::start(vec![ID_KEY.jwk(), ACCESS_KEY.jwk()]).await;
    let auth = CognitoAuthenticator::builder(REGION, POOL)
        .client_id(CLIENT)
        .token_use(CognitoTokenUse::Any)
        .jwks_url(&server.url)
        .build()
        .unwrap();
    let expired = |claims: Value| with(claims, "exp", json!(now() - 3600));
    let id = tokens(
        "0f1e2d3c-user",
        ID_KEY.token(&id_claims()),
        ID_KEY.token(&expired(id_claims())),
    );
    conformance::authenticator(&auth, &id).await;
    let access = tokens(
        "0f1e2d3c-user",
        ACCESS_KEY.token(&access_claims()),
        ACCESS_KEY.token(&expired(access_claims())),
    );
    conformance::authenticator(&auth, &access).await;
}

#[tokio::test]
async fn a_general_oidc_authenticator_with_leeway_conforms() {
    let server = JwksServer::start(vec![EC_KEY.jwk()]).await;
    let auth = JwksAuthenticator::builder("https://issuer.test/")
        .jwks_url(&server.url)
        .audience(["api://link"])
        .leeway(Duration::from_secs(60))
        .build()
        .unwrap();
    let claims = |exp: u64| json!({"sub": "u-ec", "iss": "https://issuer.test/", "aud": ["api://link"], "exp": exp});
    // Expired beyond the minute of leeway.
    let tokens = tokens(
        "u-ec",
        EC_KEY.token(&claims(now() + 600)),
        EC_KEY.token(&claims(now() - 120)),
    );
    conformance::authenticator(&auth, &tokens).await;
}

#[test]
fn the_governor_limiter_conforms_on_a_fake_clock() {
    let limiter =
        GovernorRateLimiter::with_clock(RateLimitConfig::default(), FakeRelativeClock::default())
            .unwrap();
    conformance::rate_limiter(&limiter);
}

#[test]
fn the_governor_limiter_conforms_on_the_real_clock_with_a_burst() {
    // One request an hour refills nothing while the suite runs; the burst is the limit.
    let config = RateLimitConfig {
        requests: 1,
        period: Duration::from_secs(3600),
        burst: 7,
        ..RateLimitConfig::default()
    };
    conformance::rate_limiter(&GovernorRateLimiter::new(config).unwrap());
}
