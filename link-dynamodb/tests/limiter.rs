//! The link-core rate-limiter conformance rules on a DynamoRateLimiter against moto.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use link_core::testing::conformance;
use link_core::{RateDecision, RateLimiter};
use link_dynamodb::DynamoRateLimiter;

mod common;

#[test]
fn dynamo_rate_limiter_conforms() {
    let moto = common::Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(common::store(&moto));
    // Five an hour: nothing refills while the checks run.
    let limiter = DynamoRateLimiter::new(
        common::client(&moto),
        store.table(),
        5,
        Duration::from_secs(3600),
    )
    .unwrap()
    .with_daily_tokens(Some(1_000));
    conformance::rate_limiter(&limiter);
    conformance::limit::weighted_rate_limiter(&limiter);
    conformance::limit::daily_token_quota(&limiter, 1_000);
}

#[test]
fn instances_share_one_allowance_also_when_racing() {
    let moto = common::Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(common::store(&moto));
    let instance = || {
        DynamoRateLimiter::new(
            common::client(&moto),
            store.table(),
            10,
            Duration::from_secs(3600),
        )
        .unwrap()
        .with_daily_tokens(Some(100))
    };
    let (a, b) = (instance(), instance());
    let alice = link_core::Principal::new("alice");
    assert_eq!(
        a.check_n(&alice, 3),
        RateDecision::Allowed {
            limit: 10,
            remaining: 7
        }
    );
    assert_eq!(
        b.check(&alice),
        RateDecision::Allowed {
            limit: 10,
            remaining: 6
        },
        "another instance sees what the first one counted"
    );

    // Eight requests from four threads over two instances, six left: exactly six pass.
    let bob = link_core::Principal::new("bob");
    b.check_n(&bob, 4);
    let allowed = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let limiter = if i % 2 == 0 { &a } else { &b };
                let bob = &bob;
                scope.spawn(move || {
                    (0..2)
                        .filter(|_| matches!(limiter.check(bob), RateDecision::Allowed { .. }))
                        .count()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum::<usize>()
    });
    assert_eq!(
        allowed, 6,
        "racing instances never let more through than the limit"
    );
}

#[test]
fn an_unreachable_table_lets_requests_pass_within_the_timeout() {
    // A port nothing listens on: DynamoDB cannot answer.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let limiter = DynamoRateLimiter::new(client, "link", 5, Duration::from_secs(60))
        .unwrap()
        .with_timeout(Duration::from_millis(500))
        .with_daily_tokens(Some(10));
    let started = std::time::Instant::now();
    let alice = link_core::Principal::new("alice");
    assert_eq!(
        limiter.check(&alice),
        RateDecision::Allowed {
            limit: 5,
            remaining: 0
        },
        "fails open"
    );
    limiter.spend_tokens(&alice, 100);
    assert_eq!(limiter.tokens_exhausted(&alice), None, "fails open");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
