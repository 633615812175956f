//! One table from each kind of [`Error`] to how it shows outside the library (its stable code,
//! HTTP status, command-line exit code and the text a public client may read) and back from
//! what a client of the HTTP API received. The server, the CLI and any other client read this
//! table instead of keeping their own copy of it.

use std::time::Duration;

use super::Error;
use exit::{AUTH_OR_LIMIT, FAILURE, UPSTREAM, USAGE};

/// Exit codes of a command-line tool, by the meaning of the failure ([`Error::exit_code`]).
pub mod exit {
    /// Something failed that is none of the kinds below (configuration, storage, I/O).
    pub const FAILURE: u8 = 1;
    /// The command line or the input was wrong (clap uses 2 for its own usage errors too).
    pub const USAGE: u8 = 2;
    /// Not authenticated, not allowed, or rate limited.
    pub const AUTH_OR_LIMIT: u8 = 3;
    /// The model service failed, timed out, refused or was blocked.
    pub const UPSTREAM: u8 = 4;
    /// The thing asked for does not exist, or belongs to someone else.
    pub const NOT_FOUND: u8 = 5;
}

/// What a client of the HTTP API received, from which [`Class::rebuild`] makes the error again.
struct Wire<'a> {
    server: &'a str,
    message: String,
    status: Option<u16>,
    retry_after: Option<Duration>,
}

/// How one kind of error shows outside the library.
#[derive(Clone, Copy)]
struct Class {
    code: &'static str,
    status: u16,
    exit: u8,
    /// Said to public clients instead of the error's own text, which may hold internals.
    fixed_message: Option<&'static str>,
    rebuild: fn(Wire<'_>) -> Error,
}

/// The table, one row per kind, kept to one line a row. The upstream kind has two rows:
/// whether trying again may help changes the status (503 or 502) but not the code.
#[rustfmt::skip]
mod rows {
    use super::*;

    // Authentication failures never say why: the reason helps an attacker more than a user.
    pub(super) const UNAUTHORIZED: Class = Class::new("unauthorized", 401, AUTH_OR_LIMIT, |w| Error::unauthorized(w.message))
        .saying("a valid bearer token is required");
    pub(super) const FORBIDDEN: Class = Class::new("forbidden", 403, AUTH_OR_LIMIT, |w| Error::Forbidden { reason: w.message });
    pub(super) const RATE_LIMITED: Class = Class::new("rate_limited", 429, AUTH_OR_LIMIT, |w| Error::RateLimited {
        retry_after: w.retry_after.unwrap_or(Duration::from_secs(1)),
    });
    pub(super) const QUOTA_EXCEEDED: Class = Class::new("quota_exceeded", 429, AUTH_OR_LIMIT, |w| Error::QuotaExceeded {
        message: w.message,
        retry_after: w.retry_after.unwrap_or(Duration::from_secs(1)),
    });
    pub(super) const INVALID_REQUEST: Class = Class::new("invalid_request", 400, USAGE, |w| Error::invalid(w.message));
    pub(super) const MESSAGE_TOO_LONG: Class = Class::new("message_too_long", 422, USAGE, message_too_long);
    // Split where the message joined the problems.
    pub(super) const INVALID_PERSONA: Class = Class::new("invalid_persona", 422, UPSTREAM, |w| Error::InvalidPersona {
        problems: w.message.split("; ").map(str::to_owned).collect(),
    });
    pub(super) const NOT_FOUND: Class = Class::new("not_found", 404, exit::NOT_FOUND, |w| Error::not_found(w.message));
    pub(super) const CONFLICT: Class = Class::new("conflict", 409, USAGE, |w| Error::conflict(w.message));
    pub(super) const GUARDRAIL_BLOCKED: Class = Class::new("guardrail_blocked", 422, UPSTREAM, |w| Error::GuardrailBlocked { message: w.message });
    // The filter withheld text: never say what it was.
    pub(super) const CONTENT_FILTERED: Class = Class::new("content_filtered", 422, UPSTREAM, |w| Error::ContentFiltered { message: w.message }).saying("the reply was withheld by the content filter");
    // Only the categories, never the blocked text (the error holds none).
    pub(super) const CONTENT_BLOCKED: Class = Class::new("content_blocked", 422, UPSTREAM, content_blocked);
    pub(super) const REFUSAL: Class = Class::new("refusal", 422, UPSTREAM, |w| Error::Refusal { message: w.message });
    pub(super) const TRUNCATED: Class = Class::new("truncated", 502, UPSTREAM, |w| Error::Truncated { message: w.message });
    pub(super) const MALFORMED_OUTPUT: Class = Class::new("malformed_output", 502, UPSTREAM, |w| Error::MalformedOutput { message: w.message });
    pub(super) const UPSTREAM_RETRYABLE: Class = Class::new("upstream_error", 503, UPSTREAM, upstream);
    pub(super) const UPSTREAM_FAILED: Class = Class::new("upstream_error", 502, UPSTREAM, upstream);
    pub(super) const BUSY: Class = Class::new("busy", 503, UPSTREAM, |w| Error::Busy { message: w.message });
    pub(super) const TIMEOUT: Class = Class::new("timeout", 504, UPSTREAM, |w| Error::Timeout { what: w.message });
    // Internal failures: their detail is logged, never shown.
    pub(super) const STORAGE: Class = Class::new("storage_error", 500, FAILURE, |w| Error::storage(w.message))
        .saying("internal error");
    pub(super) const CONFIG: Class = Class::new("config_error", 500, FAILURE, |w| Error::Config { message: w.message })
        .saying("internal error");
    pub(super) const CANCELLED: Class = Class::new("cancelled", 500, FAILURE, |_| Error::Cancelled);
}
use rows::*;

/// Every row, for the way back from a code. `UPSTREAM_FAILED` shares its code and rebuild
/// with `UPSTREAM_RETRYABLE`, so it needs no entry here.
const BY_CODE: [Class; 21] = [
    UNAUTHORIZED,
    FORBIDDEN,
    RATE_LIMITED,
    QUOTA_EXCEEDED,
    INVALID_REQUEST,
    MESSAGE_TOO_LONG,
    INVALID_PERSONA,
    NOT_FOUND,
    CONFLICT,
    GUARDRAIL_BLOCKED,
    CONTENT_FILTERED,
    CONTENT_BLOCKED,
    REFUSAL,
    TRUNCATED,
    MALFORMED_OUTPUT,
    UPSTREAM_RETRYABLE,
    BUSY,
    TIMEOUT,
    STORAGE,
    CONFIG,
    CANCELLED,
];

/// Codes the HTTP server sends for requests its JSON parser refused before any [`Error`]
/// existed; to a client they mean the same as an invalid request.
const PARSER_CODES: [&str; 2] = ["payload_too_large", "unsupported_media_type"];

/// A too-long message from its text: the limit is its first number (none reads as 0).
fn message_too_long(w: Wire<'_>) -> Error {
    let max_chars = w
        .message
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| !part.is_empty())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0);
    Error::MessageTooLong { max_chars }
}

/// A moderation block from its categories as its message lists them (`"hate, violence"`).
fn content_blocked(w: Wire<'_>) -> Error {
    let categories = match w.message.as_str() {
        "" | super::CONTENT_BLOCKED => vec![],
        list => list.split(", ").map(str::to_owned).collect(),
    };
    Error::ContentBlocked { categories }
}

/// An upstream failure reported by `w.server`. Unavailable (503) and gateway timeout (504) are
/// the statuses after which the same request may succeed.
fn upstream(w: Wire<'_>) -> Error {
    let retryable = w
        .status
        .is_some_and(|s| s == UPSTREAM_RETRYABLE.status || s == TIMEOUT.status);
    Error::provider(w.server, w.message)
        .with_status(w.status)
        .with_retryable(retryable)
        .with_retry_after(w.retry_after)
}

impl Class {
    /// A row whose public message is the error's own text.
    const fn new(
        code: &'static str,
        status: u16,
        exit: u8,
        rebuild: fn(Wire<'_>) -> Error,
    ) -> Class {
        Class {
            code,
            status,
            exit,
            fixed_message: None,
            rebuild,
        }
    }

    /// This row, telling public clients `message` instead of the error's own text.
    const fn saying(self, message: &'static str) -> Class {
        Class {
            fixed_message: Some(message),
            ..self
        }
    }

    /// The row for a code a client received; unknown codes are upstream failures.
    fn of_code(code: &str) -> Class {
        if PARSER_CODES.contains(&code) {
            return INVALID_REQUEST;
        }
        BY_CODE
            .into_iter()
            .find(|class| class.code == code)
            .unwrap_or(UPSTREAM_RETRYABLE)
    }

    /// The detail inside `message` when `message` is this kind's own text ("busy: queue full"
    /// gives "queue full"), so that the rebuilt error does not say "busy: " twice. The frame is
    /// read from the error's `Display` itself, so the wording lives only there.
    fn unframe(&self, message: String) -> String {
        const HOLE: &str = "\u{0}";
        let template = (self.rebuild)(Wire {
            server: "",
            message: HOLE.to_owned(),
            status: None,
            retry_after: None,
        })
        .to_string();
        let Some((prefix, suffix)) = template.split_once(HOLE) else {
            return message;
        };
        match message
            .strip_prefix(prefix)
            .and_then(|m| m.strip_suffix(suffix))
        {
            Some(detail) => detail.to_owned(),
            None => message,
        }
    }
}

impl Error {
    /// This error's row of the table.
    fn class(&self) -> Class {
        match self {
            Error::Unauthorized { .. } => UNAUTHORIZED,
            Error::Forbidden { .. } => FORBIDDEN,
            Error::RateLimited { .. } => RATE_LIMITED,
            Error::QuotaExceeded { .. } => QUOTA_EXCEEDED,
            Error::InvalidRequest { .. } => INVALID_REQUEST,
            Error::MessageTooLong { .. } => MESSAGE_TOO_LONG,
            Error::InvalidPersona { .. } => INVALID_PERSONA,
            Error::NotFound { .. } => NOT_FOUND,
            Error::Conflict { .. } => CONFLICT,
            Error::GuardrailBlocked { .. } => GUARDRAIL_BLOCKED,
            Error::ContentFiltered { .. } => CONTENT_FILTERED,
            Error::ContentBlocked { .. } => CONTENT_BLOCKED,
            Error::Refusal { .. } => REFUSAL,
            Error::Truncated { .. } => TRUNCATED,
            Error::MalformedOutput { .. } => MALFORMED_OUTPUT,
            Error::Provider {
                retryable: true, ..
            } => UPSTREAM_RETRYABLE,
            Error::Provider { .. } => UPSTREAM_FAILED,
            Error::Busy { .. } => BUSY,
            Error::Timeout { .. } => TIMEOUT,
            Error::Storage { .. } => STORAGE,
            Error::Config { .. } => CONFIG,
            Error::Cancelled => CANCELLED,
        }
    }

    /// A stable, machine-readable code for this kind of error (used in HTTP bodies and audits).
    pub fn code(&self) -> &'static str {
        self.class().code
    }

    /// The HTTP status this error is answered with: 4xx for the caller's mistakes, 502/503/504
    /// for upstream failures (503 when trying again may help), 500 for internal ones.
    pub fn http_status(&self) -> u16 {
        self.class().status
    }

    /// The exit code a command-line tool ends with on this error (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        self.class().exit
    }

    /// What a public client may be told: never the provider's body or message, the reason an
    /// authentication failed, or the detail of an internal failure (log the error itself for
    /// those).
    pub fn public_message(&self) -> String {
        if let Error::Provider {
            provider,
            status,
            retryable,
            ..
        } = self
        {
            let status = status.map(|s| format!(" (status {s})")).unwrap_or_default();
            let again = if *retryable {
                "; try again shortly"
            } else {
                ""
            };
            return format!("the {provider} model service failed{status}{again}");
        }
        match self.class().fixed_message {
            Some(message) => message.to_owned(),
            None => self.to_string(),
        }
    }

    /// The error a client of the HTTP API received as `{"error": {"code", "message"}}`, made
    /// again from its [`code`](Error::code): the way back through the same table.
    ///
    /// `server` names who answered, for upstream failures. `status` is the HTTP status (`None`
    /// for an error event inside a stream) and `retry_after` its `Retry-After`. A message that is
    /// the kind's own text (`"busy: queue full"`) gives back the detail (`"queue full"`). Unknown
    /// codes are upstream failures, retryable after a 503 or a 504; a rate limit without a
    /// `Retry-After` asks to wait one second.
    ///
    /// ```
    /// use link_core::Error;
    ///
    /// let err = Error::from_wire("link-server", "not_found", "conversation not found", Some(404), None);
    /// assert_eq!(err, Error::not_found("conversation"));
    /// let err = Error::from_wire("link-server", "upstream_error", "overloaded", Some(503), None);
    /// assert!(err.is_retryable());
    /// ```
    pub fn from_wire(
        server: &str,
        code: &str,
        message: impl Into<String>,
        status: Option<u16>,
        retry_after: Option<Duration>,
    ) -> Error {
        let class = Class::of_code(code);
        let message = class.unframe(message.into());
        (class.rebuild)(Wire {
            server,
            message,
            status,
            retry_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of every kind, with the code, status and exit code it must have.
    fn every_kind() -> Vec<(Error, &'static str, u16, u8)> {
        let secs = Duration::from_secs;
        vec![
            (Error::unauthorized("bad signature"), "unauthorized", 401, 3),
            (
                Error::Forbidden {
                    reason: "admins only".into(),
                },
                "forbidden",
                403,
                3,
            ),
            (
                Error::RateLimited {
                    retry_after: secs(7),
                },
                "rate_limited",
                429,
                3,
            ),
            (
                Error::QuotaExceeded {
                    message: "the daily token quota is used up".into(),
                    retry_after: secs(3600),
                },
                "quota_exceeded",
                429,
                3,
            ),
            (Error::invalid("empty message"), "invalid_request", 400, 2),
            (
                Error::MessageTooLong { max_chars: 4200 },
                "message_too_long",
                422,
                2,
            ),
            (
                Error::InvalidPersona {
                    problems: vec!["name is empty".into(), "greeting is empty".into()],
                },
                "invalid_persona",
                422,
                4,
            ),
            (Error::not_found("conversation"), "not_found", 404, 5),
            (Error::conflict("changed"), "conflict", 409, 2),
            (
                Error::GuardrailBlocked {
                    message: "no".into(),
                },
                "guardrail_blocked",
                422,
                4,
            ),
            (
                Error::ContentFiltered {
                    message: "hate".into(),
                },
                "content_filtered",
                422,
                4,
            ),
            (
                Error::ContentBlocked {
                    categories: vec!["hate".into(), "violence/graphic".into()],
                },
                "content_blocked",
                422,
                4,
            ),
            (
                Error::Refusal {
                    message: "I cannot".into(),
                },
                "refusal",
                422,
                4,
            ),
            (
                Error::Truncated {
                    message: "persona".into(),
                },
                "truncated",
                502,
                4,
            ),
            (
                Error::MalformedOutput {
                    message: "not JSON".into(),
                },
                "malformed_output",
                502,
                4,
            ),
            (
                Error::provider("link-server", "boom")
                    .with_status(503)
                    .with_retryable(true)
                    .with_retry_after(secs(2)),
                "upstream_error",
                503,
                4,
            ),
            (
                Error::provider("link-server", "bad key").with_status(502),
                "upstream_error",
                502,
                4,
            ),
            (
                Error::Busy {
                    message: "queue full".into(),
                },
                "busy",
                503,
                4,
            ),
            (
                Error::Timeout {
                    what: "the OpenAI request".into(),
                },
                "timeout",
                504,
                4,
            ),
            (Error::storage("disk /x full"), "storage_error", 500, 1),
            (
                Error::Config {
                    message: "no key".into(),
                },
                "config_error",
                500,
                1,
            ),
            (Error::Cancelled, "cancelled", 500, 1),
        ]
    }

    #[test]
    fn every_kind_has_its_code_status_and_exit_code() {
        for (error, code, status, exit) in every_kind() {
            assert_eq!(error.code(), code, "{error:?}");
            assert_eq!(error.http_status(), status, "{error:?}");
            assert_eq!(error.exit_code(), exit, "{error:?}");
        }
        let exits = [
            exit::FAILURE,
            exit::USAGE,
            exit::AUTH_OR_LIMIT,
            exit::UPSTREAM,
            exit::NOT_FOUND,
        ];
        assert_eq!(exits, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn every_code_is_in_the_way_back_once() {
        let mut codes: Vec<_> = every_kind().into_iter().map(|(_, code, ..)| code).collect();
        codes.dedup();
        let back: Vec<_> = BY_CODE.iter().map(|class| class.code).collect();
        assert_eq!(codes, back);
    }

    #[test]
    fn what_a_client_receives_makes_the_same_error_again() {
        for (error, ..) in every_kind() {
            let back = Error::from_wire(
                "link-server",
                error.code(),
                error.public_message(),
                Some(error.http_status()),
                error.retry_after(),
            );
            assert_eq!(
                (back.code(), back.http_status(), back.exit_code()),
                (error.code(), error.http_status(), error.exit_code()),
                "{error:?} came back as {back:?}"
            );
            assert_eq!(back.is_retryable(), error.is_retryable(), "{back:?}");
            // Where the public message is the error's own text, nothing is lost on the way.
            if error.public_message() == error.to_string() {
                assert_eq!(back, error);
            }
        }
    }

    #[test]
    fn upstream_failures_are_503_when_retryable_and_502_when_not() {
        let failed = Error::provider("openai", "boom").with_status(500);
        assert_eq!(failed.http_status(), 502);
        assert_eq!(failed.with_retryable(true).http_status(), 503);
    }

    #[test]
    fn public_messages_keep_provider_bodies_and_internals_out() {
        let upstream = Error::provider("openai", "key sk-live-123 rejected")
            .with_status(500)
            .with_retryable(true)
            .with_body("secret body");
        let public = upstream.public_message();
        assert_eq!(
            public,
            "the openai model service failed (status 500); try again shortly"
        );
        assert!(!public.contains("secret") && !public.contains("sk-live"));
        let unretryable = Error::provider("local", "workers stopped").public_message();
        assert_eq!(unretryable, "the local model service failed");
        assert_eq!(
            Error::unauthorized("token for alice@example.com expired").public_message(),
            "a valid bearer token is required"
        );
        assert_eq!(
            Error::storage("disk /x full").public_message(),
            "internal error"
        );
        assert_eq!(
            Error::GuardrailBlocked {
                message: "no".into()
            }
            .public_message(),
            "blocked by guardrail: no"
        );
    }

    #[test]
    fn unknown_codes_are_upstream_failures_retryable_after_503_or_504() {
        let after = Some(Duration::from_secs(4));
        let unknown = |status| Error::from_wire("link-server", "teapot", "odd", status, after);
        assert_eq!(
            unknown(Some(503)),
            Error::provider("link-server", "odd")
                .with_status(503)
                .with_retryable(true)
                .with_retry_after(Duration::from_secs(4))
        );
        assert!(unknown(Some(504)).is_retryable());
        assert!(!unknown(Some(500)).is_retryable());
        // An error event inside a stream has no status.
        assert!(!unknown(None).is_retryable());
        assert_eq!(unknown(None).retry_after(), after);
    }

    #[test]
    fn parser_codes_are_invalid_requests() {
        for code in PARSER_CODES {
            let err = Error::from_wire("link-server", code, "body too big", Some(413), None);
            assert_eq!(err, Error::invalid("body too big"));
        }
    }

    #[test]
    fn a_rate_limit_without_retry_after_waits_a_second() {
        let err = Error::from_wire("s", "rate_limited", "slow down", Some(429), None);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    }

    #[test]
    fn a_content_block_without_categories_comes_back_without_categories() {
        let bare = Error::ContentBlocked { categories: vec![] };
        let back = Error::from_wire("s", bare.code(), bare.public_message(), Some(422), None);
        assert_eq!(back, bare);
        let back = Error::from_wire("s", "content_blocked", "", Some(422), None);
        assert_eq!(back, bare);
    }

    #[test]
    fn a_bare_detail_is_kept_as_it_is() {
        let err = Error::from_wire("s", "guardrail_blocked", "no", None, None);
        assert_eq!(
            err,
            Error::GuardrailBlocked {
                message: "no".into()
            }
        );
        let err = Error::from_wire("s", "busy", "the queue is full", Some(503), None);
        assert_eq!(err.to_string(), "busy: the queue is full");
    }
}
