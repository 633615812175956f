//! GovernorRateLimiter's weighed requests and daily token quota: link-core's conformance
//! rules for both, and the quota's UTC day on a wall clock the test moves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use link_auth::clock::FakeRelativeClock;
use link_auth::{GovernorRateLimiter, RateLimitConfig};
use link_core::testing::conformance;
use link_core::{Principal, RateDecision, RateLimiter};

const DAY: u64 = 24 * 3600;
/// 2024-03-01T12:00:00Z.
const NOON: u64 = 19_783 * DAY + 12 * 3600;

/// A wall clock the test sets, in seconds since the epoch.
#[derive(Clone)]
struct Wall(Arc<AtomicU64>);

impl Wall {
    fn at(secs: u64) -> Self {
        Self(Arc::new(AtomicU64::new(secs)))
    }

    fn set(&self, secs: u64) {
        self.0.store(secs, Ordering::SeqCst);
    }

    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

/// 25 a minute on a clock that does not move (nothing refills), `quota` tokens a day on
/// `wall`.
fn limiter(quota: Option<u64>, wall: &Wall) -> GovernorRateLimiter<FakeRelativeClock> {
    let wall = wall.clone();
    GovernorRateLimiter::with_clock(RateLimitConfig::default(), FakeRelativeClock::default())
        .unwrap()
        .with_daily_tokens(quota)
        .with_wall_clock(move || wall.now())
}

#[test]
fn weighed_requests_conform() {
    conformance::limit::weighted_rate_limiter(&limiter(None, &Wall::at(NOON)));
}

#[test]
fn the_daily_token_quota_conforms() {
    let limiter = limiter(Some(1000), &Wall::at(NOON));
    conformance::limit::daily_token_quota(&limiter, 1000);
    // The rate rules hold as before with a quota on.
    conformance::rate_limiter(&limiter);
}

#[test]
fn without_a_quota_tokens_are_never_used_up() {
    let limiter = limiter(None, &Wall::at(NOON));
    let alice = Principal::new("alice");
    limiter.spend_tokens(&alice, u64::MAX);
    limiter.spend_tokens(&alice, 1);
    assert_eq!(limiter.tokens_exhausted(&alice), None);
}

#[test]
fn a_used_up_quota_renews_at_midnight_utc() {
    let wall = Wall::at(NOON);
    let limiter = limiter(Some(500), &wall);
    let alice = Principal::new("alice");
    limiter.spend_tokens(&alice, 499);
    assert!(matches!(
        limiter.admit(&alice, 2, true),
        RateDecision::Allowed { .. }
    ));
    // The call that crosses the quota is not cut short; the next one is refused.
    limiter.spend_tokens(&alice, 300);
    assert_eq!(
        limiter.admit(&alice, 2, true),
        RateDecision::Exhausted {
            retry_after: Duration::from_secs(12 * 3600)
        }
    );
    wall.set(NOON + 12 * 3600 - 1);
    assert_eq!(
        limiter.tokens_exhausted(&alice),
        Some(Duration::from_secs(1))
    );
    wall.set(NOON + 12 * 3600);
    assert_eq!(limiter.tokens_exhausted(&alice), None, "a new UTC day");
}

#[test]
fn a_weighed_denial_says_how_long_until_the_cost_fits() {
    let (clock, wall) = (FakeRelativeClock::default(), Wall::at(NOON));
    let limiter = GovernorRateLimiter::with_clock(RateLimitConfig::default(), clock.clone())
        .unwrap()
        .with_wall_clock(move || wall.now());
    let alice = Principal::new("alice");
    for _ in 0..25 {
        limiter.check(&alice);
    }
    // 25 a minute: one every 2.4 s, so four take 9.6 s, reported as 10 s.
    assert_eq!(
        limiter.check_n(&alice, 4),
        RateDecision::Denied {
            limit: 25,
            retry_after: Duration::from_secs(10)
        }
    );
    clock.advance(Duration::from_millis(9_600));
    assert!(matches!(
        limiter.check_n(&alice, 4),
        RateDecision::Allowed { remaining: 0, .. }
    ));
}

/// The governor limiter seen only through `check`: the trait's defaults for the rest (a
/// request counts once, no quota).
#[derive(Debug)]
struct Unweighed(GovernorRateLimiter<FakeRelativeClock>);

impl RateLimiter for Unweighed {
    fn check(&self, principal: &Principal) -> RateDecision {
        self.0.check(principal)
    }
}

#[test]
#[should_panic(expected = "a cost of 3 uses three requests")]
fn the_weighed_rules_catch_a_limiter_that_counts_requests() {
    let inner = limiter(None, &Wall::at(NOON));
    conformance::limit::weighted_rate_limiter(&Unweighed(inner));
}

#[test]
#[should_panic(expected = "the quota is used up")]
fn the_quota_rules_catch_a_limiter_without_one() {
    let inner = limiter(Some(1000), &Wall::at(NOON));
    conformance::limit::daily_token_quota(&Unweighed(inner), 1000);
}
