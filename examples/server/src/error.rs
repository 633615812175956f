//! Errors as HTTP responses: `{"error": {"code": "...", "message": "..."}}` (the wire crate's
//! [`ErrorBody`]) with the status and headers each kind deserves. Statuses, codes and public
//! messages come from the one table in `link_core::Error`; this file only adds what is
//! HTTP's own (`Retry-After`, body-parsing rejections).

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use link::Error;
pub use link_wire::{ErrorBody, ErrorDetail};

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: ErrorDetail,
    retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            detail: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
            },
            retry_after: None,
        }
    }

    /// The one answer for every authentication failure: no detail that helps an attacker.
    pub fn unauthorized() -> Self {
        Self::from(Error::unauthorized("no valid bearer token"))
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
        &self.detail.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.detail.message
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status =
            StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(%error, code = error.code(), "request failed");
        }
        // A busy local model frees up within a second or so: say when to come back.
        let retry_after = error.retry_after().or(match error {
            Error::Busy { .. } => Some(Duration::from_secs(1)),
            _ => None,
        });
        Self {
            status,
            detail: ErrorDetail::from_error(&error),
            retry_after,
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

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let (status, code) = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            _ => (StatusCode::BAD_REQUEST, "invalid_request"),
        };
        Self::new(status, code, rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(after) = self.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        let body = ErrorBody { error: self.detail };
        (self.status, headers, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_meaning_of_the_error() {
        let upstream = |retryable| {
            Error::provider("openai", "boom")
                .with_status(500)
                .with_retryable(retryable)
                .with_retry_after(Duration::from_millis(1500))
                .with_body("secret body")
        };
        assert_eq!(
            ApiError::from(upstream(true)).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            ApiError::from(upstream(false)).status(),
            StatusCode::BAD_GATEWAY
        );
        let api = ApiError::from(upstream(true));
        assert!(!api.detail.message.contains("secret body"));
        let response = api.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let guardrail = Error::GuardrailBlocked {
            message: "no".into(),
        };
        assert_eq!(
            ApiError::from(guardrail).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            ApiError::from(Error::Timeout { what: "x".into() }).status(),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            ApiError::from(Error::storage("disk /x full"))
                .detail
                .message,
            "internal error"
        );
        let busy = ApiError::from(Error::Busy {
            message: "queue full".into(),
        });
        assert_eq!(busy.into_response().headers()[header::RETRY_AFTER], "1");
    }
}
