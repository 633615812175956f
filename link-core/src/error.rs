//! The one error type of the Link library.
//!
//! Variants are grouped by meaning, not by where they came from: an HTTP layer can map each one
//! to a status without knowing which provider produced it. No variant carries a foreign error
//! type, so adapters can upgrade their SDKs without breaking this API.

use std::time::Duration;

mod class;

pub use class::exit;

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
    /// A per-user allowance other than the request rate is used up: the model calls the user
    /// may have running at once, or the tokens of the day. The message says which, in words
    /// the user can act on; `retry_after` says when it is back.
    #[error("{message}")]
    QuotaExceeded {
        /// Which allowance is used up.
        message: String,
        /// How long until it is available again.
        retry_after: Duration,
    },
    /// The request itself is wrong (empty message, oversize input, bad identifier, ...).
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong with the request.
        message: String,
    },
    /// The user's message is longer than the engine accepts: longer than its configured limit,
    /// or than the chat model can read together with the conversation's prompt and the room
    /// kept for the reply. Nothing was sent to the model.
    #[error("the message is too long: at most {max_chars} characters fit")]
    MessageTooLong {
        /// The most characters a message may have here.
        max_chars: usize,
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
    /// The request was based on a state of the conversation that has changed since (another
    /// request added, edited or removed messages first); read it again and retry.
    #[error("conflict: {message}")]
    Conflict {
        /// What changed.
        message: String,
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
    /// A [`Moderator`](crate::Moderator) blocked the user's input or the model's output. The
    /// blocked text is never in the error, only the categories the moderator named.
    #[error("{}", blocked_message(categories))]
    ContentBlocked {
        /// Why, as the moderator named it (may be empty); safe to log and show.
        categories: Vec<String>,
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

/// The text of an [`Error::ContentBlocked`] without categories; with some, they follow it
/// after `": "`, joined by `", "`.
pub(crate) const CONTENT_BLOCKED: &str = "content blocked by moderation";

fn blocked_message(categories: &[String]) -> String {
    if categories.is_empty() {
        CONTENT_BLOCKED.to_owned()
    } else {
        format!("{CONTENT_BLOCKED}: {}", categories.join(", "))
    }
}

impl Error {
    /// Whether the same request may succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. }
            | Error::QuotaExceeded { .. }
            | Error::Busy { .. }
            | Error::Timeout { .. } => true,
            Error::Provider { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// How long to wait before trying again, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } | Error::QuotaExceeded { retry_after, .. } => {
                Some(*retry_after)
            }
            Error::Provider { retry_after, .. } => *retry_after,
            _ => None,
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

    /// An [`Error::Conflict`].
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
        }
    }

    /// An [`Error::Provider`] from `provider` (e.g. `"openai"`): no status, not retryable, no
    /// retry-after, no body until the `with_` setters below say otherwise.
    ///
    /// ```
    /// use link_core::Error;
    /// use std::time::Duration;
    ///
    /// let err = Error::provider("openai", "overloaded")
    ///     .with_status(503)
    ///     .with_retryable(true)
    ///     .with_retry_after(Duration::from_secs(2));
    /// assert!(err.is_retryable());
    /// assert_eq!(err.to_string(), "openai failed with status 503: overloaded");
    /// ```
    pub fn provider(provider: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Provider {
            provider: provider.into(),
            status: None,
            message: message.into(),
            retryable: false,
            retry_after: None,
            body: None,
        }
    }

    /// Sets the HTTP status of an [`Error::Provider`]; takes a status or an `Option` of one.
    /// Does nothing to other variants.
    pub fn with_status(mut self, status: impl Into<Option<u16>>) -> Self {
        if let Error::Provider { status: field, .. } = &mut self {
            *field = status.into();
        }
        self
    }

    /// Sets whether trying an [`Error::Provider`] again may succeed. Does nothing to other
    /// variants.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        if let Error::Provider {
            retryable: field, ..
        } = &mut self
        {
            *field = retryable;
        }
        self
    }

    /// Sets how long the provider asked to wait, for an [`Error::Provider`]; takes a duration
    /// or an `Option` of one. Does nothing to other variants.
    pub fn with_retry_after(mut self, retry_after: impl Into<Option<Duration>>) -> Self {
        if let Error::Provider {
            retry_after: field, ..
        } = &mut self
        {
            *field = retry_after.into();
        }
        self
    }

    /// Keeps the provider's raw response body, for diagnosis, in an [`Error::Provider`]. Does
    /// nothing to other variants.
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        if let Error::Provider { body: field, .. } = &mut self {
            *field = Some(body.into());
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_errors_carry_retryability_and_status() {
        let err = Error::provider("openai", "overloaded")
            .with_status(503)
            .with_retryable(true)
            .with_retry_after(Duration::from_secs(2));
        assert!(err.is_retryable());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(err.to_string(), "openai failed with status 503: overloaded");
        assert!(!Error::invalid("empty").is_retryable());
    }

    #[test]
    fn provider_setters_fill_their_field_and_leave_other_variants_alone() {
        let err = Error::provider("bedrock", "throttled")
            .with_status(None)
            .with_retry_after(None)
            .with_body("{\"message\":\"slow down\"}");
        let Error::Provider {
            status,
            retryable,
            retry_after,
            body,
            ..
        } = &err
        else {
            panic!("expected a provider error, got {err:?}");
        };
        assert_eq!((*status, *retryable, *retry_after), (None, false, None));
        assert_eq!(body.as_deref(), Some("{\"message\":\"slow down\"}"));
        let busy = Error::Busy {
            message: "queue full".into(),
        };
        let same = busy
            .clone()
            .with_status(503)
            .with_retryable(true)
            .with_retry_after(Duration::from_secs(1))
            .with_body("x");
        assert_eq!(same, busy);
    }

    #[test]
    fn content_blocked_names_its_categories_and_nothing_else() {
        let err = Error::ContentBlocked {
            categories: vec!["hate".into(), "violence".into()],
        };
        assert_eq!(
            err.to_string(),
            "content blocked by moderation: hate, violence"
        );
        let bare = Error::ContentBlocked { categories: vec![] };
        assert_eq!(bare.to_string(), "content blocked by moderation");
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
