//! Exit codes by the meaning of the failure, as `link --help` documents them.

use link_core::Error;

/// Something failed that is none of the kinds below (configuration, storage, I/O).
pub const FAILURE: u8 = 1;
/// The command line or the input was wrong (clap uses 2 for its own usage errors too).
pub const USAGE: u8 = 2;
/// Not authenticated, not allowed, or rate limited.
pub const AUTH_OR_LIMIT: u8 = 3;
/// The model service failed, timed out, refused or was blocked.
pub const UPSTREAM: u8 = 4;
/// No such conversation of yours.
pub const NOT_FOUND: u8 = 5;

/// The exit code for an error.
pub fn code(error: &Error) -> u8 {
    match error {
        Error::InvalidRequest { .. } => USAGE,
        Error::Unauthorized { .. } | Error::Forbidden { .. } | Error::RateLimited { .. } => {
            AUTH_OR_LIMIT
        }
        Error::NotFound { .. } => NOT_FOUND,
        Error::Provider { .. }
        | Error::Timeout { .. }
        | Error::Busy { .. }
        | Error::Truncated { .. }
        | Error::MalformedOutput { .. }
        | Error::Refusal { .. }
        | Error::GuardrailBlocked { .. }
        | Error::ContentFiltered { .. }
        | Error::InvalidPersona { .. } => UPSTREAM,
        _ => FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn codes_follow_the_meaning() {
        assert_eq!(code(&Error::invalid("empty message")), USAGE);
        let limited = Error::RateLimited {
            retry_after: Duration::from_secs(1),
        };
        assert_eq!(code(&limited), AUTH_OR_LIMIT);
        let missing = Error::NotFound {
            what: "conversation".into(),
        };
        assert_eq!(code(&missing), NOT_FOUND);
        let upstream = Error::Provider {
            provider: "openai".into(),
            status: Some(500),
            message: "boom".into(),
            retryable: true,
            retry_after: None,
            body: None,
        };
        assert_eq!(code(&upstream), UPSTREAM);
        assert_eq!(code(&Error::storage("disk full")), FAILURE);
    }
}
