//! Bedrock failures as Link errors, by meaning: throttling and unavailability are retryable,
//! validation, access and missing resources are not, a model timeout is a timeout.
//!
//! The SDK's error metadata (`code()`, `message()`) and the raw HTTP status are read from
//! every `SdkError`; nothing here assumes which variant the SDK produced.

use std::time::Duration;

use aws_sdk_bedrockruntime::config::http::HttpResponse;
use aws_sdk_bedrockruntime::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_smithy_types::event_stream::RawMessage;
use link_core::Error;

/// The provider name in [`Error::Provider`].
pub(crate) const PROVIDER: &str = "bedrock";

/// Raw bodies are kept for diagnosis, but never without bound.
const BODY_LIMIT: usize = 4096;

/// What is known about a failed call, whichever operation or transport produced it.
#[derive(Debug, Default)]
pub(crate) struct Failure {
    pub(crate) code: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) status: Option<u16>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Option<String>,
}

/// Maps the error of a request/response operation (Converse, InvokeModel, ApplyGuardrail, or
/// the start of ConverseStream).
pub(crate) fn from_sdk<E>(err: SdkError<E, HttpResponse>, operation: &str) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let raw = err.raw_response();
    let failure = Failure {
        code: err.code().map(str::to_owned),
        message: err.message().map(str::to_owned),
        status: raw.map(|r| r.status().as_u16()),
        retry_after: raw.and_then(|r| retry_after(r.headers().get("retry-after"))),
        body: raw.and_then(|r| r.body().bytes()).map(clip),
    };
    match &err {
        SdkError::ServiceError(_) => classify(failure),
        _ => transport(&err, failure, operation),
    }
}

/// Maps an error read from an open ConverseStream: an exception frame or a broken stream.
pub(crate) fn from_stream(err: SdkError<ConverseStreamOutputError, RawMessage>) -> Error {
    let body = match err.raw_response() {
        Some(RawMessage::Decoded(message)) => Some(clip(message.payload())),
        Some(RawMessage::Invalid(Some(bytes))) => Some(clip(bytes)),
        _ => None,
    };
    // Exception frames name their type in a header, not in the payload the SDK reads the
    // code from, so the modelled variant is the reliable source.
    let code = err
        .code()
        .or_else(|| err.as_service_error().and_then(stream_code))
        .map(str::to_owned);
    let failure = Failure {
        code,
        message: err.message().map(str::to_owned),
        body,
        ..Failure::default()
    };
    match &err {
        SdkError::ServiceError(_) => classify(failure),
        _ => transport(&err, failure, "ConverseStream"),
    }
}

fn stream_code(err: &ConverseStreamOutputError) -> Option<&'static str> {
    use ConverseStreamOutputError as E;
    Some(match err {
        E::ThrottlingException(_) => "throttlingException",
        E::ServiceUnavailableException(_) => "serviceUnavailableException",
        E::InternalServerException(_) => "internalServerException",
        E::ModelStreamErrorException(_) => "modelStreamErrorException",
        E::ValidationException(_) => "validationException",
        _ => return None,
    })
}

/// Failures where Bedrock never answered with a modelled error.
fn transport<E, R>(err: &SdkError<E, R>, failure: Failure, operation: &str) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let detail = DisplayErrorContext(err).to_string();
    match err {
        SdkError::ConstructionFailure(_) => Error::InvalidRequest {
            message: format!("the Bedrock {operation} request could not be built: {detail}"),
        },
        SdkError::TimeoutError(_) => timeout(operation),
        SdkError::DispatchFailure(d) if d.is_timeout() => timeout(operation),
        SdkError::DispatchFailure(_) => provider(
            format!("could not reach Bedrock for {operation}: {detail}"),
            true,
            failure,
        ),
        _ => {
            let retryable = failure.status.is_some_and(retryable_status);
            provider(
                format!("unreadable Bedrock {operation} response: {detail}"),
                retryable,
                failure,
            )
        }
    }
}

/// Maps a modelled Bedrock error by its code, falling back to the HTTP status.
pub(crate) fn classify(failure: Failure) -> Error {
    let code = failure
        .code
        .as_deref()
        .map(normalize_code)
        .unwrap_or_default();
    let message = failure
        .message
        .clone()
        .unwrap_or_else(|| "no message".to_owned());
    let retryable = match code.as_str() {
        "modeltimeoutexception" => return timeout(&format!("the Bedrock model ({message})")),
        "throttlingexception"
        | "serviceunavailableexception"
        | "internalserverexception"
        | "modelnotreadyexception" => true,
        "validationexception"
        | "accessdeniedexception"
        | "resourcenotfoundexception"
        | "servicequotaexceededexception"
        | "modelerrorexception"
        | "modelstreamerrorexception"
        | "conflictexception" => false,
        _ => failure.status.is_some_and(retryable_status),
    };
    let label = failure.code.as_deref().unwrap_or("error");
    provider(format!("{label}: {message}"), retryable, failure)
}

fn provider(message: String, retryable: bool, failure: Failure) -> Error {
    let error = Error::provider(PROVIDER, message)
        .with_status(failure.status)
        .with_retryable(retryable)
        .with_retry_after(failure.retry_after);
    match failure.body {
        Some(body) => error.with_body(body),
        None => error,
    }
}

fn timeout(what: &str) -> Error {
    Error::Timeout {
        what: format!("Bedrock: {what}"),
    }
}

/// `ThrottlingException`, `throttlingException` (stream frames) and
/// `com.amazon...#ThrottlingException` all name the same error.
fn normalize_code(code: &str) -> String {
    let code = code.rsplit('#').next().unwrap_or(code);
    let code = code.split(':').next().unwrap_or(code);
    code.trim().to_ascii_lowercase()
}

fn retryable_status(status: u16) -> bool {
    status == 429 || status >= 500
}

fn retry_after(header: Option<&str>) -> Option<Duration> {
    header?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn clip(bytes: &[u8]) -> String {
    let end = bytes.len().min(BODY_LIMIT);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn failure(code: &str, status: Option<u16>) -> Failure {
        Failure {
            code: Some(code.to_owned()),
            message: Some("details".to_owned()),
            status,
            ..Failure::default()
        }
    }

    fn retryable(err: &Error) -> bool {
        match err {
            Error::Provider { retryable, .. } => *retryable,
            other => panic!("expected a provider error, got {other:?}"),
        }
    }

    #[test]
    fn codes_map_by_meaning() {
        let cases = [
            ("ThrottlingException", 429, true),
            ("throttlingException", 200, true),
            ("ServiceUnavailableException", 503, true),
            ("InternalServerException", 500, true),
            ("ModelNotReadyException", 429, true),
            ("ValidationException", 400, false),
            ("AccessDeniedException", 403, false),
            ("ResourceNotFoundException", 404, false),
            ("ServiceQuotaExceededException", 400, false),
            ("ModelErrorException", 424, false),
            ("modelStreamErrorException", 200, false),
        ];
        for (code, status, expected) in cases {
            let err = classify(failure(code, Some(status)));
            assert_eq!(retryable(&err), expected, "{code}");
            assert!(err.to_string().contains(code), "{err}");
        }
    }

    #[test]
    fn model_timeouts_are_timeouts() {
        let err = classify(failure("ModelTimeoutException", Some(408)));
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        assert!(err.is_retryable());
    }

    #[test]
    fn unknown_codes_fall_back_to_the_status() {
        assert!(retryable(&classify(failure("NewException", Some(502)))));
        assert!(!retryable(&classify(failure("NewException", Some(418)))));
        assert!(!retryable(&classify(failure("NewException", None))));
    }

    #[test]
    fn namespaced_codes_and_retry_after_are_understood() {
        assert_eq!(
            normalize_code("com.amazon.bedrock#ThrottlingException"),
            "throttlingexception"
        );
        assert_eq!(
            normalize_code("ThrottlingException:http://x"),
            "throttlingexception"
        );
        assert_eq!(retry_after(Some(" 7 ")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(Some("soon")), None);
    }

    #[test]
    fn bodies_are_clipped() {
        assert_eq!(clip(&[b'a'; BODY_LIMIT * 2]).len(), BODY_LIMIT);
    }
}
