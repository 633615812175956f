//! GovernorRateLimiter on a fake clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use link_auth::clock::FakeRelativeClock;
use link_auth::{AuthError, GovernorRateLimiter, RateLimitConfig};
use link_core::{Principal, RateDecision, RateLimiter};

fn limiter(config: RateLimitConfig) -> (GovernorRateLimiter<FakeRelativeClock>, FakeRelativeClock) {
    let clock = FakeRelativeClock::default();
    (
        GovernorRateLimiter::with_clock(config, clock.clone()).unwrap(),
        clock,
    )
}

fn allowed(decision: RateDecision) -> u32 {
    match decision {
        RateDecision::Allowed { limit, remaining } => {
            assert_eq!(limit, 25);
            remaining
        }
        denied => panic!("expected allowed, got {denied:?}"),
    }
}

#[test]
fn exactly_the_quota_passes_then_the_next_is_denied_with_a_rounded_up_retry_after() {
    let (limiter, _clock) = limiter(RateLimitConfig::default());
    let alice = Principal::new("alice");
    for expected_remaining in (0..25).rev() {
        assert_eq!(allowed(limiter.check(&alice)), expected_remaining);
    }
    // 25 per minute: one request every 2.4 s, so the wait is 2.4 s, reported as 3 s.
    assert_eq!(
        limiter.check(&alice),
        RateDecision::Denied {
            limit: 25,
            retry_after: Duration::from_secs(3)
        }
    );
}

#[test]
fn the_allowance_replenishes_over_the_interval() {
    let (limiter, clock) = limiter(RateLimitConfig::default());
    let alice = Principal::new("alice");
    for _ in 0..25 {
        allowed(limiter.check(&alice));
    }
    clock.advance(Duration::from_millis(2_000));
    match limiter.check(&alice) {
        RateDecision::Denied { retry_after, .. } => assert_eq!(retry_after, Duration::from_secs(1)),
        other => panic!("still empty after 2 s: {other:?}"),
    }
    clock.advance(Duration::from_millis(400));
    assert_eq!(
        allowed(limiter.check(&alice)),
        0,
        "one request back after 2.4 s"
    );

    clock.advance(Duration::from_secs(60));
    assert_eq!(
        allowed(limiter.check(&alice)),
        24,
        "full burst after a quiet minute"
    );
}

#[test]
fn users_are_independent() {
    let (limiter, _clock) = limiter(RateLimitConfig::default());
    let (alice, bob) = (Principal::new("alice"), Principal::new("bob"));
    for _ in 0..25 {
        allowed(limiter.check(&alice));
    }
    assert!(matches!(limiter.check(&alice), RateDecision::Denied { .. }));
    assert_eq!(allowed(limiter.check(&bob)), 24);
}

#[test]
fn idle_keys_are_evicted_periodically() {
    let config = RateLimitConfig {
        eviction_interval: Duration::from_secs(30),
        ..RateLimitConfig::default()
    };
    let (limiter, clock) = limiter(config);
    for i in 0..1000 {
        limiter.check(&Principal::new(format!("user-{i}")));
    }
    let busy = Principal::new("busy");
    for _ in 0..25 {
        limiter.check(&busy);
    }
    assert_eq!(limiter.tracked_keys(), 1001);

    // Ten seconds on: single-request users are full again but no eviction is due yet.
    clock.advance(Duration::from_secs(10));
    limiter.check(&busy);
    assert_eq!(limiter.tracked_keys(), 1001);

    // Past the interval: every idle user is dropped; the busy one (still drained) stays.
    clock.advance(Duration::from_secs(21));
    limiter.check(&busy);
    assert_eq!(limiter.tracked_keys(), 1);
}

#[test]
fn custom_quotas_and_bad_settings() {
    let config = RateLimitConfig {
        requests: 2,
        period: Duration::from_secs(10),
        burst: 2,
        ..RateLimitConfig::default()
    };
    let (limiter, _clock) = limiter(config);
    let carol = Principal::new("carol");
    assert!(matches!(
        limiter.check(&carol),
        RateDecision::Allowed {
            limit: 2,
            remaining: 1
        }
    ));
    assert!(matches!(
        limiter.check(&carol),
        RateDecision::Allowed {
            limit: 2,
            remaining: 0
        }
    ));
    assert_eq!(
        limiter.check(&carol),
        RateDecision::Denied {
            limit: 2,
            retry_after: Duration::from_secs(5)
        }
    );
    let zero = RateLimitConfig {
        requests: 0,
        ..RateLimitConfig::default()
    };
    assert!(matches!(
        GovernorRateLimiter::new(zero),
        Err(AuthError::Config { .. })
    ));
}
