//! The [`RateLimiter`] checks: the limit is reported, remaining counts down, the request past
//! the limit is denied with a positive retry-after, and principals do not share a bucket.
//!
//! Give the limiter a small limit (the checks exhaust it several times) that does not refill
//! while they run: a fake clock, or a period of minutes.

use super::unique;
use crate::{Principal, RateDecision, RateLimiter};

/// The largest limit the checks will exhaust.
pub const MAX_LIMIT: u32 = 10_000;

/// Runs every check of this module, in order.
pub fn rate_limiter(limiter: &dyn RateLimiter) {
    a_fresh_principal_is_allowed_and_told_the_limit(limiter);
    remaining_counts_down_to_zero(limiter);
    past_the_limit_is_denied_with_a_retry_after(limiter);
    principals_do_not_share_a_bucket(limiter);
}

fn fresh_principal(name: &str) -> Principal {
    Principal::new(unique(name))
}

/// The first decision for a fresh principal: `(limit, remaining)`.
fn first_allowed(limiter: &dyn RateLimiter, principal: &Principal) -> (u32, u32) {
    match limiter.check(principal) {
        RateDecision::Allowed { limit, remaining } => (limit, remaining),
        denied => panic!("the first request of a fresh principal must be allowed: {denied:?}"),
    }
}

/// Uses up `principal`'s whole allowance and returns the limit.
fn exhaust(limiter: &dyn RateLimiter, principal: &Principal) -> u32 {
    let (limit, _) = first_allowed(limiter, principal);
    assert!(
        limit <= MAX_LIMIT,
        "the suite needs a limit of at most {MAX_LIMIT}, got {limit}"
    );
    for _ in 1..limit {
        limiter.check(principal);
    }
    limit
}

fn assert_denied(decision: RateDecision, expected_limit: u32, rule: &str) {
    match decision {
        RateDecision::Denied { limit, retry_after } => {
            assert_eq!(limit, expected_limit, "{rule}: a denial reports the limit");
            assert!(
                !retry_after.is_zero(),
                "{rule}: a denial must say to wait a while"
            );
        }
        allowed => panic!("{rule}: expected Denied, got {allowed:?}"),
    }
}

/// The first request of a principal is allowed, with a positive limit and one used up.
pub fn a_fresh_principal_is_allowed_and_told_the_limit(limiter: &dyn RateLimiter) {
    let (limit, remaining) = first_allowed(limiter, &fresh_principal("alice"));
    assert!(limit > 0, "the limit must be positive");
    assert_eq!(
        remaining,
        limit - 1,
        "the first request leaves limit - 1 remaining"
    );
}

/// Each allowed request leaves one fewer remaining, down to zero, with the same limit.
pub fn remaining_counts_down_to_zero(limiter: &dyn RateLimiter) {
    let alice = fresh_principal("alice");
    let (limit, mut expected) = first_allowed(limiter, &alice);
    while expected > 0 {
        expected -= 1;
        assert_eq!(
            limiter.check(&alice),
            RateDecision::Allowed {
                limit,
                remaining: expected
            },
            "remaining must count down by one per request"
        );
    }
}

/// The request past the limit is denied with a retry-after above zero, and so is the next.
pub fn past_the_limit_is_denied_with_a_retry_after(limiter: &dyn RateLimiter) {
    let alice = fresh_principal("alice");
    let limit = exhaust(limiter, &alice);
    assert_denied(limiter.check(&alice), limit, "the request past the limit");
    assert_denied(limiter.check(&alice), limit, "a request after a denial");
}

/// One principal using up its allowance leaves another's untouched.
pub fn principals_do_not_share_a_bucket(limiter: &dyn RateLimiter) {
    let alice = fresh_principal("alice");
    let limit = exhaust(limiter, &alice);
    let (bob_limit, bob_remaining) = first_allowed(limiter, &fresh_principal("bob"));
    assert_eq!(bob_limit, limit, "every principal has the same limit");
    assert_eq!(
        bob_remaining,
        limit - 1,
        "another principal's requests must not use up this one's allowance"
    );
    assert_denied(limiter.check(&alice), limit, "the exhausted principal");
}
