//! The one error type of the Link library.
//!
//! Variants are grouped by meaning, not by where they came from: an HTTP layer can map each one
//! to a status without knowing which provider produced it. No variant carries a foreign error
//! type, so adapters can upgrade their SDKs without breaking this API.

use std::time::Duration;

/// A `Result` whose error is Link's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in Link.
///
/// ```
/// use link_core::Error;
/// use std::time::Duration;
///
/// let err = Error::RateLimited { retry_after: Duration::from_secs(3) };
/// assert!(err.is_retryable());
/// assert_eq!(err.code(), "rate_limited");
/// assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller is not authenticated. The reason is safe to log; it never holds the token.
    #[error("unauthorized: {reason}")]
    Unauthorized {
        /// Why the credentials were refused.
        reason: String,
    },
    /// The caller is authenticated but not allowed to do this.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why the action was refused.
        reason: String,
    },
    /// The caller has used up its quota; it may try again after `retry_after`.
    #[error("rate limited: retry after {} s", retry_after.as_secs())]
    RateLimited {
        /// How long the caller should wait before the next request.
        retry_after: Duration,
    },
    /// The request itself is wrong (empty message, oversize input, bad identifier, ...).
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong with the request.
        message: String,
    },
    /// A persona failed [`Persona::validate`](crate::Persona::validate).
    #[error("invalid persona: {}", problems.join("; "))]
    InvalidPersona {
        /// Every problem found, one per entry.
        problems: Vec<String>,
    },
    /// The thing asked for does not exist, or belongs to someone else.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. `"conversation"`.
        what: String,
    },
    /// A guardrail blocked the input or the output.
    #[error("blocked by guardrail: {message}")]
    GuardrailBlocked {
        /// The guardrail's configured message, safe to show to the user.
        message: String,
    },
    /// The provider's content filter stopped the output.
    #[error("content filtered: {message}")]
    ContentFiltered {
        /// What the provider said.
        message: String,
    },
    /// The model declined to answer.
    #[error("the model refused: {message}")]
    Refusal {
        /// The model's refusal text.
        message: String,
    },
    /// The model's structured output was cut off by its token limit.
    #[error("output truncated: {message}")]
    Truncated {
        /// What was being produced when the limit was hit.
        message: String,
    },
    /// The model produced output that does not parse as what was asked for.
    #[error("malformed model output: {message}")]
    MalformedOutput {
        /// What was wrong with it.
        message: String,
    },
    /// An upstream provider failed.
    #[error("{provider} failed{}: {message}", status.map(|s| format!(" with status {s}")).unwrap_or_default())]
    Provider {
        /// Which provider, e.g. `"openai"` or `"bedrock"`.
        provider: String,
        /// The HTTP status, when there was one.
        status: Option<u16>,
        /// A short description, safe to log (never a key or token).
        message: String,
        /// Whether trying again may succeed.
        retryable: bool,
        /// How long the provider asked us to wait, when it said.
        retry_after: Option<Duration>,
        /// The provider's raw response body, kept for diagnosis.
        body: Option<String>,
    },
    /// A local resource is saturated (e.g. the in-process model's queue is full).
    #[error("busy: {message}")]
    Busy {
        /// What is busy.
        message: String,
    },
    /// An operation ran out of time.
    #[error("timed out: {what}")]
    Timeout {
        /// What timed out.
        what: String,
    },
    /// The conversation store failed.
    #[error("storage error: {message}")]
    Storage {
        /// What failed.
        message: String,
    },
    /// The library or a port was configured wrongly.
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong with the configuration.
        message: String,
    },
    /// The caller went away before the work was done.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// Whether the same request may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Busy { .. } | Error::Timeout { .. } => true,
            Error::Provider { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// How long to wait before trying again, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } => Some(*retry_after),
            Error::Provider { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A stable, machine-readable code for this kind of error (used in HTTP bodies and audits).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthorized { .. } => "unauthorized",
            Error::Forbidden { .. } => "forbidden",
            Error::RateLimited { .. } => "rate_limited",
            Error::InvalidRequest { .. } => "invalid_request",
            Error::InvalidPersona { .. } => "invalid_persona",
            Error::NotFound { .. } => "not_found",
            Error::GuardrailBlocked { .. } => "guardrail_blocked",
            Error::ContentFiltered { .. } => "content_filtered",
            Error::Refusal { .. } => "refusal",
            Error::Truncated { .. } => "truncated",
            Error::MalformedOutput { .. } => "malformed_output",
            Error::Provider { .. } => "upstream_error",
            Error::Busy { .. } => "busy",
            Error::Timeout { .. } => "timeout",
            Error::Storage { .. } => "storage_error",
            Error::Config { .. } => "config_error",
            Error::Cancelled => "cancelled",
        }
    }

    /// Shorthand for [`Error::InvalidRequest`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }

    /// Shorthand for [`Error::Storage`].
    pub fn storage(message: impl Into<String>) -> Self {
        Error::Storage {
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Unauthorized`].
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Error::Unauthorized {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_errors_carry_retryability_and_status() {
        let err = Error::Provider {
            provider: "openai".into(),
            status: Some(503),
            message: "overloaded".into(),
            retryable: true,
            retry_after: Some(Duration::from_secs(2)),
            body: None,
        };
        assert!(err.is_retryable());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(err.to_string(), "openai failed with status 503: overloaded");
        assert!(!Error::invalid("empty").is_retryable());
    }

    #[test]
    fn invalid_persona_lists_every_problem() {
        let err = Error::InvalidPersona {
            problems: vec!["name is empty".into(), "greeting is empty".into()],
        };
        assert_eq!(
            err.to_string(),
            "invalid persona: name is empty; greeting is empty"
        );
    }
}
