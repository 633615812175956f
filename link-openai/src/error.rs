//! Turning OpenAI's failures into [`link_core::Error`]s, with keys scrubbed out.
//!
//! Every HTTP failure becomes [`Error::Provider`] with `provider: "openai"`, the status, the
//! message from `error.message`, whether a retry may help, the requested wait and the raw body
//! (shortened). A 401 or 403 from OpenAI is a `Provider` error too, not
//! [`Error::Unauthorized`]: it means the server's upstream key is wrong, a misconfiguration of
//! this deployment, not a failure of the end user's credentials. An upstream 429 is likewise
//! `Provider` (retryable, with `retry_after`), since [`Error::RateLimited`] is reserved for
//! the caller's own quota.
//!
//! OpenAI echoes part of a bad key in its 401 message (`sk-proj-****abcd`); the key and any
//! `sk-...` token are replaced by `[redacted]` before anything is kept.

use link_core::Error;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::retry;

/// The provider name in every [`Error::Provider`] of this crate (see the crate docs, "Errors").
pub const PROVIDER: &str = "openai";

/// Longest raw body kept in an error, in bytes.
const MAX_BODY: usize = 8 * 1024;

/// Maps failures to [`Error`]s, scrubbing the API key from everything it keeps.
#[derive(Debug, Clone)]
pub(crate) struct ErrorMapper {
    api_key: Option<SecretString>,
}

impl ErrorMapper {
    pub(crate) fn new(api_key: Option<SecretString>) -> Self {
        Self { api_key }
    }

    /// The error for a non-success answer; reads (and shortens) its body.
    pub(crate) async fn for_response(&self, response: reqwest::Response) -> Error {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => String::new(),
        };
        let detail = ErrorDetail::parse(&body);
        let retryable = retry::should_retry_header(&headers).unwrap_or_else(|| {
            retry::retryable_status(status) && detail.code.as_deref() != Some("insufficient_quota")
        });
        let message = detail
            .message
            .unwrap_or_else(|| format!("HTTP {status} from the OpenAI-compatible server"));
        let error = Error::provider(PROVIDER, self.redact(&message))
            .with_status(status)
            .with_retryable(retryable)
            .with_retry_after(retry::retry_after(&headers));
        if body.is_empty() {
            return error;
        }
        error.with_body(self.redact(truncate(&body, MAX_BODY)))
    }

    /// The error for a request that got no answer (connection refused, reset, timed out).
    pub(crate) fn transport(&self, err: &reqwest::Error) -> Error {
        if err.is_timeout() {
            return Error::Timeout {
                what: "the OpenAI request".into(),
            };
        }
        if err.is_builder() {
            return Error::Config {
                message: format!(
                    "cannot build the OpenAI request: {}",
                    self.redact(&err.to_string())
                ),
            };
        }
        let what = if err.is_connect() {
            "could not connect to the OpenAI-compatible server"
        } else {
            "the connection to the OpenAI-compatible server failed"
        };
        let message = format!("{what}: {}", self.redact(&err.to_string()));
        Error::provider(PROVIDER, message).with_retryable(true)
    }

    /// An `error` object received in the middle of a stream.
    pub(crate) fn mid_stream(&self, error: &Value) -> Error {
        let detail = ErrorDetail::from_error_value(error);
        let retryable = matches!(
            detail.kind.as_deref(),
            Some("server_error" | "internal_error")
        );
        let message = detail
            .message
            .as_deref()
            .unwrap_or("the stream reported an error");
        Error::provider(PROVIDER, self.redact(message))
            .with_retryable(retryable)
            .with_body(self.redact(truncate(&error.to_string(), MAX_BODY)))
    }

    /// `text` with the API key and anything that looks like an OpenAI key replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        if let Some(key) = &self.api_key {
            let key = key.expose_secret();
            if !key.is_empty() {
                text = text.replace(key, "[redacted]");
            }
        }
        redact_key_like(&text)
    }
}

/// Replaces every `sk-...` token (OpenAI key prefixes, masked or not) by `[redacted]`.
fn redact_key_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("sk-") {
        let starts_word = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*')))
            .unwrap_or(tail.len());
        if starts_word {
            out.push_str("[redacted]");
        } else {
            out.push_str(&tail[..end]);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The useful parts of an error body, from whichever shape the server used:
/// OpenAI's `{"error": {"message", "type", "code"}}`, a bare `{"error": "text"}` (some local
/// servers) or vLLM's top-level `{"message", "type", "code"}`.
#[derive(Debug, Default)]
struct ErrorDetail {
    message: Option<String>,
    kind: Option<String>,
    code: Option<String>,
}

impl ErrorDetail {
    fn parse(body: &str) -> Self {
        match serde_json::from_str::<Value>(body) {
            Ok(value) => match value.get("error") {
                Some(error) => Self::from_error_value(error),
                None => Self::from_error_value(&value),
            },
            Err(_) => Self::default(),
        }
    }

    fn from_error_value(error: &Value) -> Self {
        let text = |key: &str| match error.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        match error {
            Value::String(message) => Self {
                message: Some(message.clone()),
                ..Self::default()
            },
            _ => Self {
                message: text("message"),
                kind: text("type"),
                code: text("code"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn keys_are_scrubbed() {
        let mapper = ErrorMapper::new(Some(SecretString::from("local-secret-123")));
        let text =
            "Incorrect API key provided: sk-proj-****abcd. Also local-secret-123 and risk-free.";
        let clean = mapper.redact(text);
        assert_eq!(
            clean,
            "Incorrect API key provided: [redacted]. Also [redacted] and risk-free."
        );
    }

    #[test]
    fn error_bodies_of_every_shape_are_read() {
        let openai = ErrorDetail::parse(
            r#"{"error":{"message":"quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        );
        assert_eq!(openai.message.as_deref(), Some("quota"));
        assert_eq!(openai.code.as_deref(), Some("insufficient_quota"));
        let bare = ErrorDetail::parse(r#"{"error":"model not found"}"#);
        assert_eq!(bare.message.as_deref(), Some("model not found"));
        let vllm = ErrorDetail::parse(
            r#"{"object":"error","message":"bad","type":"BadRequestError","code":400}"#,
        );
        assert_eq!(vllm.code.as_deref(), Some("400"));
        assert!(ErrorDetail::parse("<html>").message.is_none());
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
