//! Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with OpenAI's
//! statuses, so the official SDKs raise their usual exceptions (`AuthenticationError` on
//! 401, `NotFoundError` on 404, `RateLimitError` on 429 with `retry-after`, `BadRequestError`
//! on 400, `APIStatusError` on upstream failures).
//!
//! Handlers and the admission layer answer with Link's error body as everywhere else;
//! [`openai_errors`], a layer on these routes only, rewrites such a body into OpenAI's shape,
//! keeping the status and headers (`Retry-After`, `RateLimit-*`, the request id). Errors that
//! only OpenAI's API has (an unsupported parameter, an unknown model) are made here in that
//! shape directly.

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::wire::{OpenAiError, OpenAiErrorBody};

/// The largest error body rewritten; Link's are a few hundred bytes.
const MAX_ERROR_BODY: usize = 16 * 1024;

impl OpenAiError {
    /// The error for a Link error `code` answered with `status`.
    pub fn from_link(status: StatusCode, code: &str, message: &str) -> Self {
        let (kind, code) = match status.as_u16() {
            401 => ("invalid_request_error", "invalid_api_key"),
            429 if code == "rate_limited" => ("requests", "rate_limit_exceeded"),
            429 => ("requests", code),
            s if s >= 500 => ("server_error", code),
            _ => ("invalid_request_error", code),
        };
        Self {
            message: message.to_owned(),
            kind: kind.to_owned(),
            param: None,
            code: Some(code.to_owned()),
        }
    }

    /// A parameter this API does not take (OpenAI's `unsupported_parameter`).
    pub fn unsupported_parameter(param: &str) -> Self {
        Self::invalid(
            param,
            "unsupported_parameter",
            format!("Unsupported parameter: '{param}' is not supported by Link's personas."),
        )
    }

    /// A value of `param` this API does not take (OpenAI's `unsupported_value`).
    pub fn unsupported_value(param: &str, why: &str) -> Self {
        Self::invalid(
            param,
            "unsupported_value",
            format!("Unsupported value: '{param}' {why}"),
        )
    }

    /// A request OpenAI's API would refuse as invalid, naming the parameter.
    pub fn invalid(param: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            kind: "invalid_request_error".to_owned(),
            param: Some(param.to_owned()),
            code: Some(code.to_owned()),
        }
    }

    /// A model that names none of the caller's conversations (OpenAI's `model_not_found`).
    pub fn model_not_found(model: &str) -> Self {
        Self::invalid(
            "model",
            "model_not_found",
            format!("The model `{model}` does not exist or you do not have access to it."),
        )
    }

    /// The error as a response with `status`.
    pub fn with_status(self, status: StatusCode) -> Response {
        (status, Json(OpenAiErrorBody { error: self })).into_response()
    }
}

/// Rewrites every error answer of the routes it wraps from Link's body into OpenAI's,
/// keeping its status and headers. An answer already in OpenAI's shape (it has a `type`),
/// or that is not a JSON error at all, passes as it is.
pub async fn openai_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        let error = OpenAiError::from_link(status, "internal", "internal error");
        return error.with_status(status);
    };
    let Some(error) =
        link_error(&bytes).map(|(code, message)| OpenAiError::from_link(status, &code, &message))
    else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let body = serde_json::to_vec(&OpenAiErrorBody { error }).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// The code and message of a body in Link's error shape (and not already OpenAI's).
fn link_error(bytes: &[u8]) -> Option<(String, String)> {
    let body: Value = serde_json::from_slice(bytes).ok()?;
    let error = body.get("error")?;
    if error.get("type").is_some() {
        return None;
    }
    let code = error.get("code")?.as_str()?.to_owned();
    let message = error
        .get("message")?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Some((code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_keep_their_meaning_in_openai_words() {
        let auth = OpenAiError::from_link(StatusCode::UNAUTHORIZED, "unauthorized", "no");
        assert_eq!(auth.code.as_deref(), Some("invalid_api_key"));
        let limited = OpenAiError::from_link(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "x");
        assert_eq!(
            (limited.kind.as_str(), limited.code.as_deref()),
            ("requests", Some("rate_limit_exceeded"))
        );
        let upstream = OpenAiError::from_link(StatusCode::BAD_GATEWAY, "provider_error", "x");
        assert_eq!(upstream.kind, "server_error");
        let unsupported = OpenAiError::unsupported_parameter("tools");
        assert_eq!(unsupported.param.as_deref(), Some("tools"));
    }

    #[test]
    fn only_link_shaped_errors_are_rewritten() {
        let link = br#"{"error":{"code":"not_found","message":"conversation not found"}}"#;
        assert_eq!(
            link_error(link),
            Some(("not_found".into(), "conversation not found".into()))
        );
        let openai = br#"{"error":{"code":"x","message":"y","type":"invalid_request_error"}}"#;
        assert_eq!(link_error(openai), None);
        assert_eq!(link_error(b"not json"), None);
    }
}
