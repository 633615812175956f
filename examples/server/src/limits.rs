//! `RateLimit-*` response headers from the limiter's decision.

use axum::http::{HeaderMap, HeaderValue};
use link_core::RateDecision;

/// Sets `RateLimit-Limit`, `RateLimit-Remaining` and, when denied, `RateLimit-Reset`
/// (seconds until the next request is allowed).
pub fn rate_limit_headers(headers: &mut HeaderMap, decision: RateDecision) {
    let (limit, remaining, reset) = match decision {
        RateDecision::Allowed { limit, remaining } => (limit, remaining, None),
        RateDecision::Denied { limit, retry_after } => (limit, 0, Some(retry_after.as_secs())),
    };
    // An unlimited limiter reports u32::MAX: such headers would only confuse clients.
    if limit == u32::MAX {
        return;
    }
    headers.insert("ratelimit-limit", HeaderValue::from(limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
    if let Some(reset) = reset {
        headers.insert("ratelimit-reset", HeaderValue::from(reset));
    }
}
