//! The [`RateLimiter`] checks: the limit is reported, remaining counts down, the request past
//! the limit is denied with a positive retry-after, and principals do not share a bucket
//! ([`rate_limiter`]). A limiter that weighs requests also passes [`weighted_rate_limiter`],
//! and one with a daily token quota [`daily_token_quota`].
//!
//! Give the limiter a small limit (the checks exhaust it several times) that does not refill
//! while they run: a fake clock, or a period of minutes.

use std::time::Duration;

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

/// Runs every rule of weighed requests ([`RateLimiter::check_n`]), in order. The limit must be
/// at least 4.
pub fn weighted_rate_limiter(limiter: &dyn RateLimiter) {
    a_cost_uses_that_many_requests(limiter);
    a_cost_that_does_not_fit_is_denied_and_uses_nothing(limiter);
    a_cost_above_the_burst_takes_the_whole_burst(limiter);
    a_cost_of_zero_counts_as_one(limiter);
}

/// A request costing 3 leaves three fewer remaining, and is counted with the others.
pub fn a_cost_uses_that_many_requests(limiter: &dyn RateLimiter) {
    let alice = fresh_principal("alice");
    let (limit, remaining) = match limiter.check_n(&alice, 3) {
        RateDecision::Allowed { limit, remaining } => (limit, remaining),
        denied => panic!("a fresh principal's first weighed request must pass: {denied:?}"),
    };
    assert!(limit >= 4, "the weighed checks need a limit of at least 4");
    assert_eq!(remaining, limit - 3, "a cost of 3 uses three requests");
    assert_eq!(
        limiter.check(&alice),
        RateDecision::Allowed {
            limit,
            remaining: limit - 4
        },
        "a plain request after a weighed one uses one more"
    );
}

/// A request costing more than what remains is denied, and uses none of it: what remains
/// still passes.
pub fn a_cost_that_does_not_fit_is_denied_and_uses_nothing(limiter: &dyn RateLimiter) {
    let alice = fresh_principal("alice");
    let (limit, _) = first_allowed(limiter, &alice);
    // Leave exactly 2.
    for _ in 1..limit - 2 {
        limiter.check(&alice);
    }
    assert_denied(
        limiter.check_n(&alice, 3),
        limit,
        "a cost of 3 with 2 remaining",
    );
    assert_eq!(
        limiter.check_n(&alice, 2),
        RateDecision::Allowed {
            limit,
            remaining: 0
        },
        "a denied weighed request must not use up what remains"
    );
}

/// A request costing more than the whole limit passes when the allowance is full, taking all
/// of it (else it could never pass).
pub fn a_cost_above_the_burst_takes_the_whole_burst(limiter: &dyn RateLimiter) {
    let alice = fresh_principal("alice");
    let limit = match limiter.check_n(&alice, MAX_LIMIT + 1) {
        RateDecision::Allowed {
            limit,
            remaining: 0,
        } => limit,
        other => panic!("a cost above the limit takes the whole allowance: {other:?}"),
    };
    assert_denied(limiter.check(&alice), limit, "the request after it");
}

/// A cost of 0 counts as 1: no request is free.
pub fn a_cost_of_zero_counts_as_one(limiter: &dyn RateLimiter) {
    let alice = fresh_principal("alice");
    match limiter.check_n(&alice, 0) {
        RateDecision::Allowed { limit, remaining } => {
            assert_eq!(remaining, limit - 1, "a cost of 0 uses one request");
        }
        denied => panic!("a fresh principal's first request must pass: {denied:?}"),
    }
}

/// Runs every rule of a daily token quota of `quota` tokens (at least 2), in order. The
/// limiter's wall clock must not pass midnight UTC while they run.
pub fn daily_token_quota(limiter: &dyn RateLimiter, quota: u64) {
    a_fresh_principal_has_tokens_left(limiter);
    spending_below_the_quota_leaves_tokens(limiter, quota);
    spending_the_quota_uses_it_up_for_at_most_a_day(limiter, quota);
    principals_do_not_share_tokens(limiter, quota);
    reads_pass_when_the_tokens_are_used_up(limiter, quota);
}

/// A principal that spent nothing has tokens left, and may call a model.
pub fn a_fresh_principal_has_tokens_left(limiter: &dyn RateLimiter) {
    let alice = fresh_principal("alice");
    assert_eq!(limiter.tokens_exhausted(&alice), None);
    assert!(
        matches!(limiter.admit(&alice, 1, true), RateDecision::Allowed { .. }),
        "a fresh principal may call a model"
    );
}

/// Spending one token less than the quota, in several calls, leaves tokens.
pub fn spending_below_the_quota_leaves_tokens(limiter: &dyn RateLimiter, quota: u64) {
    let alice = fresh_principal("alice");
    limiter.spend_tokens(&alice, 1);
    limiter.spend_tokens(&alice, quota - 2);
    assert_eq!(
        limiter.tokens_exhausted(&alice),
        None,
        "{} of {quota} tokens spent: some are left",
        quota - 1
    );
}

/// Once the quota is spent, it is used up until it renews, within a day; a model call is
/// then [`RateDecision::Exhausted`] with that wait.
pub fn spending_the_quota_uses_it_up_for_at_most_a_day(limiter: &dyn RateLimiter, quota: u64) {
    let alice = fresh_principal("alice");
    limiter.spend_tokens(&alice, quota - 1);
    limiter.spend_tokens(&alice, 1);
    let wait = limiter
        .tokens_exhausted(&alice)
        .unwrap_or_else(|| panic!("{quota} of {quota} tokens spent: the quota is used up"));
    assert!(
        !wait.is_zero() && wait <= Duration::from_secs(24 * 3600),
        "the quota renews within a day, not after {wait:?}"
    );
    assert_eq!(
        limiter.admit(&alice, 2, true),
        RateDecision::Exhausted { retry_after: wait },
        "a model call once the tokens are used up"
    );
}

/// One principal using up its tokens leaves another's untouched.
pub fn principals_do_not_share_tokens(limiter: &dyn RateLimiter, quota: u64) {
    let alice = fresh_principal("alice");
    limiter.spend_tokens(&alice, quota);
    assert!(limiter.tokens_exhausted(&alice).is_some());
    assert_eq!(
        limiter.tokens_exhausted(&fresh_principal("bob")),
        None,
        "another principal's spending must not use up this one's tokens"
    );
}

/// With the tokens used up, a request that calls no model still passes, and a refused model
/// call uses none of the rate allowance.
pub fn reads_pass_when_the_tokens_are_used_up(limiter: &dyn RateLimiter, quota: u64) {
    let alice = fresh_principal("alice");
    let (limit, _) = first_allowed(limiter, &alice);
    limiter.spend_tokens(&alice, quota);
    assert!(matches!(
        limiter.admit(&alice, 1, true),
        RateDecision::Exhausted { .. }
    ));
    assert_eq!(
        limiter.admit(&alice, 1, false),
        RateDecision::Allowed {
            limit,
            remaining: limit - 2
        },
        "a read passes, and the refused model call used nothing"
    );
}
