//! Errors as HTTP responses: `{"error": {"code": "...", "message": "..."}}` with the status
//! and headers each kind deserves.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use link_core::{Error, RateDecision, RequestContext};
use serde::Serialize;
use utoipa::ToSchema;

use crate::limits::rate_limit_headers;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code (`unauthorized`, `rate_limited`, `not_found`, ...).
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    retry_after: Option<Duration>,
    rate: Option<RateDecision>,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
            rate: None,
        }
    }

    /// The one answer for every authentication failure: no detail that helps an attacker.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        )
    }

    /// An engine error, with the rate-limit state of the request it failed in.
    pub fn from_core(error: Error, ctx: &RequestContext) -> Self {
        let mut api = Self::from(error);
        api.rate = ctx.rate_decision();
        api
    }

    /// Adds a `Retry-After`.
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    /// The status this error is sent with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The status for each kind of engine error.
fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
        Error::Forbidden { .. } => StatusCode::FORBIDDEN,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::InvalidPersona { .. }
        | Error::GuardrailBlocked { .. }
        | Error::ContentFiltered { .. }
        | Error::Refusal { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Provider {
            retryable: true, ..
        }
        | Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Error::Provider { .. } | Error::Truncated { .. } | Error::MalformedOutput { .. } => {
            StatusCode::BAD_GATEWAY
        }
        Error::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// What the caller is told. Internal failures are logged in full and reported briefly;
/// authentication failures never say why.
fn public_message(error: &Error) -> String {
    match error {
        Error::Unauthorized { .. } => "a valid bearer token is required".to_owned(),
        Error::Provider {
            provider,
            status,
            retryable,
            ..
        } => {
            let status = status.map(|s| format!(" (status {s})")).unwrap_or_default();
            let again = if *retryable {
                "; try again shortly"
            } else {
                ""
            };
            format!("the {provider} model service failed{status}{again}")
        }
        Error::Storage { .. } | Error::Config { .. } => "internal error".to_owned(),
        other => other.to_string(),
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = status_of(&error);
        if status.is_server_error() {
            tracing::error!(%error, code = error.code(), "request failed");
        }
        let retry_after = error.retry_after().or(match error {
            Error::Busy { .. } => Some(Duration::from_secs(1)),
            _ => None,
        });
        Self {
            status,
            code: error.code().to_owned(),
            message: public_message(&error),
            retry_after,
            rate: None,
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let (status, code) = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            JsonRejection::BytesRejection(_)
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            _ => (StatusCode::BAD_REQUEST, "invalid_request"),
        };
        Self::new(status, code, rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(rate) = self.rate {
            rate_limit_headers(&mut headers, rate);
        }
        if let Some(after) = self.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        (self.status, headers, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_meaning_of_the_error() {
        let upstream = |retryable| Error::Provider {
            provider: "openai".into(),
            status: Some(500),
            message: "boom".into(),
            retryable,
            retry_after: Some(Duration::from_millis(1500)),
            body: Some("secret body".into()),
        };
        assert_eq!(status_of(&upstream(true)), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status_of(&upstream(false)), StatusCode::BAD_GATEWAY);
        let api = ApiError::from(upstream(true));
        assert!(!api.message.contains("secret body"));
        let response = api.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let guardrail = Error::GuardrailBlocked {
            message: "no".into(),
        };
        assert_eq!(status_of(&guardrail), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            status_of(&Error::Timeout { what: "x".into() }),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            ApiError::from(Error::storage("disk /x full")).message,
            "internal error"
        );
    }
}
