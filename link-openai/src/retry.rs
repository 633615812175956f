//! Retries the way the official OpenAI SDKs do them.
//!
//! 408, 409, 429 and 5xx answers, connection failures and timeouts are tried again, a bounded
//! number of times (2 retries by default). The wait is what the server asked for in
//! `retry-after-ms` or `retry-after` (seconds), when that is positive and at most
//! [`RetryPolicy::max_retry_after`]; otherwise exponential backoff, 0.5 s * 2^n capped at 8 s,
//! less up to 25 % jitter so that many clients do not retry in lockstep. A 429 with
//! `insufficient_quota` is never retried: waiting does not add credit. A server may also
//! decide with `x-should-retry: true|false`, as OpenAI's do.

use std::future::Future;
use std::time::Duration;

use link_core::Result;
use reqwest::header::HeaderMap;

use crate::error::ErrorMapper;

/// How many times, and how patiently, a failed request is tried again.
///
/// ```
/// use std::time::Duration;
/// use link_openai::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.max_retries, 2);
/// assert!(policy.backoff(10) <= Duration::from_secs(8));
/// let none = RetryPolicy::none();
/// assert_eq!(none.max_retries, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts in all).
    pub max_retries: u32,
    /// Backoff before the first retry; it doubles for each retry after.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// The longest server-requested wait that is honoured; a longer one falls back to backoff.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The backoff before retry number `retry` (0-based), with jitter: between 75 % and
    /// 100 % of `initial_backoff * 2^retry`, capped at `max_backoff`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2f64.powi(retry.min(30) as i32);
        let base =
            (self.initial_backoff.as_secs_f64() * factor).min(self.max_backoff.as_secs_f64());
        let jitter = 1.0 - rand::random_range(0.0..0.25);
        Duration::from_secs_f64(base * jitter)
    }

    /// How long to wait before retry number `retry`, given the failed answer's headers.
    pub(crate) fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        headers
            .and_then(retry_after)
            .filter(|wait| !wait.is_zero() && *wait <= self.max_retry_after)
            .unwrap_or_else(|| self.backoff(retry))
    }
}

/// Whether OpenAI's SDKs retry an answer with this status.
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// The wait a server asked for: `retry-after-ms` (milliseconds) first, then `retry-after`
/// (seconds; the HTTP-date form is not honoured and falls back to backoff).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        let value = headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    number("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| number("retry-after").map(Duration::from_secs_f64))
}

/// The server's own verdict in `x-should-retry`, when it gave one.
pub(crate) fn should_retry_header(headers: &HeaderMap) -> Option<bool> {
    match headers.get("x-should-retry")?.to_str().ok()? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Sends with `send` until a success, a failure not worth retrying, or the policy runs out.
/// `send` maps transport failures itself; connection failures and timeouts are retryable.
///
/// A non-success answer becomes a [`link_core::Error`] through [`ErrorMapper::for_response`];
/// only the answer's status line and headers decide a retry, so for a stream this retries
/// the initial response only, never after its first event.
pub(crate) async fn send_with_retry<F, Fut>(
    policy: &RetryPolicy,
    errors: &ErrorMapper,
    mut send: F,
) -> Result<reqwest::Response>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<reqwest::Response>>,
{
    let mut retry = 0;
    loop {
        let (failure, headers) = match send().await {
            Ok(response) if response.status().is_success() => return Ok(response),
            Ok(response) => {
                let headers = response.headers().clone();
                (errors.for_response(response).await, Some(headers))
            }
            Err(err) => (err, None),
        };
        if retry >= policy.max_retries || !failure.is_retryable() {
            return Err(failure);
        }
        let wait = policy.delay(retry, headers.as_ref());
        tracing::warn!(
            retry = retry + 1,
            max_retries = policy.max_retries,
            wait_ms = wait.as_millis() as u64,
            error = %failure,
            "openai request failed; retrying"
        );
        tokio::time::sleep(wait).await;
        retry += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = RetryPolicy::default();
        for retry in 0..8 {
            let full = (0.5 * 2f64.powi(retry as i32)).min(8.0);
            let got = policy.backoff(retry).as_secs_f64();
            assert!(
                got <= full && got >= full * 0.75 - 1e-9,
                "retry {retry}: {got} vs {full}"
            );
        }
    }

    #[test]
    fn retry_after_ms_wins_over_seconds() {
        let h = headers(&[("retry-after-ms", "250"), ("retry-after", "7")]);
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let h = headers(&[("retry-after", "1.5")]);
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn overlong_or_zero_retry_after_falls_back_to_backoff() {
        let policy = RetryPolicy::default();
        let long = headers(&[("retry-after", "600")]);
        assert!(policy.delay(0, Some(&long)) <= Duration::from_millis(500));
        let zero = headers(&[("retry-after", "0")]);
        assert!(policy.delay(0, Some(&zero)) >= Duration::from_millis(375));
        let ok = headers(&[("retry-after", "3")]);
        assert_eq!(policy.delay(0, Some(&ok)), Duration::from_secs(3));
    }

    #[test]
    fn sdk_statuses_are_retryable() {
        for status in [408, 409, 429, 500, 502, 503, 504] {
            assert!(retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 422] {
            assert!(!retryable_status(status), "{status}");
        }
    }

    #[test]
    fn should_retry_header_is_read() {
        assert_eq!(
            should_retry_header(&headers(&[("x-should-retry", "false")])),
            Some(false)
        );
        assert_eq!(
            should_retry_header(&headers(&[("x-should-retry", "true")])),
            Some(true)
        );
        assert_eq!(should_retry_header(&HeaderMap::new()), None);
    }
}
