//! Speed targets: RS256 verification of a Cognito-shaped token (< 25 us) and one rate limiter
//! check (< 200 ns). Run with `cargo bench -p link-auth`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{ACCESS_KEY, CLIENT, ID_KEY, JwksServer, POOL, REGION, id_claims};
use criterion::{Criterion, criterion_group, criterion_main};
use link_auth::{CognitoAuthenticator, CognitoTokenUse, GovernorRateLimiter, RateLimitConfig};
use link_core::{Principal, RateLimiter};

fn verification(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (server, auth) = rt.block_on(async {
        let server = JwksServer::start(vec![ID_KEY.jwk(), ACCESS_KEY.jwk()]).await;
        let auth = CognitoAuthenticator::builder(REGION, POOL)
            .client_id(CLIENT)
            .token_use(CognitoTokenUse::Id)
            .jwks_url(&server.url)
            .build()
            .unwrap();
        auth.refresh_keys().await.unwrap();
        (server, auth)
    });
    let token = ID_KEY.token(&id_claims());
    rt.block_on(auth.verify(&token)).unwrap();
    c.bench_function("cognito_rs256_verify", |b| {
        b.iter(|| rt.block_on(auth.verify(black_box(&token))).unwrap())
    });
    drop(server);

    // The floor: the same RSA signature checked by aws-lc-rs alone, key parsed once.
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
            .unwrap();
    let key = ID_KEY.parsed_public_key();
    c.bench_function("aws_lc_rs256_signature_only", |b| {
        b.iter(|| {
            key.verify_sig(black_box(input.as_bytes()), black_box(&signature))
                .unwrap()
        })
    });
}

fn limiter(c: &mut Criterion) {
    let roomy = RateLimitConfig {
        requests: u32::MAX,
        period: Duration::from_secs(3600),
        burst: u32::MAX,
        ..RateLimitConfig::default()
    };
    let limiter = GovernorRateLimiter::new(roomy).unwrap();
    let users: Vec<Principal> = (0..1000)
        .map(|i| Principal::new(format!("user-{i}")))
        .collect();
    let mut i = 0;
    c.bench_function("limiter_check_allowed_1000_users", |b| {
        b.iter(|| {
            i = (i + 1) % users.len();
            black_box(limiter.check(black_box(&users[i])))
        })
    });
    let default = GovernorRateLimiter::new(RateLimitConfig::default()).unwrap();
    let alice = Principal::new("alice");
    c.bench_function("limiter_check_denied", |b| {
        b.iter(|| black_box(default.check(black_box(&alice))))
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = verification, limiter }
criterion_main!(benches);
