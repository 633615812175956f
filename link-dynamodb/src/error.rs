//! DynamoDB's errors as Link's: throttling, and a request that could not be sent once the
//! SDK's own retries are spent, are [`Error::Busy`] (retryable: 503 with `Retry-After`), a
//! timeout is [`Error::Timeout`], anything else [`Error::Storage`]; never a foreign error type.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use link_core::Error;

/// The DynamoDB error codes that mean "too much right now, try again".
const THROTTLED: [&str; 6] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
];

/// `error` of the call `what` as a Link error.
pub(crate) fn sdk<E: ProvideErrorMetadata, R>(what: &str, error: SdkError<E, R>) -> Error {
    match &error {
        SdkError::TimeoutError(_) => Error::Timeout {
            what: format!("DynamoDB {what}"),
        },
        // A connection refused or reset, after the SDK's retries: try again later.
        SdkError::DispatchFailure(_) => busy(format!(
            "DynamoDB {what}: the request could not be sent (is the endpoint reachable?)"
        )),
        _ => service(what, error.code(), error.message()),
    }
}

/// A service error of the call `what` with its `code` and `message`, as a Link error.
pub(crate) fn service(what: &str, code: Option<&str>, message: Option<&str>) -> Error {
    let code = code.unwrap_or("unknown");
    let message = message.unwrap_or_default();
    tracing::debug!(what, code, message, "DynamoDB call failed");
    if THROTTLED.contains(&code) {
        busy(format!("DynamoDB {what}: {code}"))
    } else if code == "ValidationException" && message.contains("size") {
        // The estimate before sending missed (it leaves room for the keys): still clear.
        Error::invalid(format!(
            "too large to store: DynamoDB keeps at most {} bytes per item",
            crate::MAX_ITEM_BYTES
        ))
    } else {
        Error::storage(format!("DynamoDB {what} failed: {code}: {message}"))
    }
}

/// A retryable "try again later" error.
pub(crate) fn busy(message: impl Into<String>) -> Error {
    Error::Busy {
        message: message.into(),
    }
}

/// A request that could not be built (a missing required field: a bug here).
pub(crate) fn build(error: aws_sdk_dynamodb::error::BuildError) -> Error {
    Error::storage(format!("DynamoDB request could not be built: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_retryable_and_a_failed_call_is_a_storage_error() {
        let throttled = service("Query", Some("ThrottlingException"), Some("slow down"));
        assert!(matches!(throttled, Error::Busy { .. }) && throttled.is_retryable());
        let conflict = service(
            "TransactWriteItems",
            Some("TransactionConflictException"),
            None,
        );
        assert!(conflict.is_retryable());
        let other = service("Query", Some("ResourceNotFoundException"), Some("no table"));
        assert!(matches!(other, Error::Storage { .. }) && !other.is_retryable());
        assert!(other.to_string().contains("no table"));
        let large = service(
            "PutItem",
            Some("ValidationException"),
            Some("Item size has exceeded"),
        );
        assert!(matches!(large, Error::InvalidRequest { .. }));
    }
}
