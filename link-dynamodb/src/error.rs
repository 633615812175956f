//! DynamoDB's errors as Link's: throttling is [`Error::Busy`] (retryable), a timeout is
//! [`Error::Timeout`], anything else [`Error::Storage`]; never a foreign error type.

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
        SdkError::DispatchFailure(_) => {
            Error::storage(format!("DynamoDB {what}: the request could not be sent"))
        }
        _ => {
            let code = error.code().unwrap_or("unknown");
            let message = error.message().unwrap_or_default();
            tracing::debug!(what, code, message, "DynamoDB call failed");
            if THROTTLED.contains(&code) {
                busy(format!("DynamoDB {what}: {code}"))
            } else {
                Error::storage(format!("DynamoDB {what} failed: {code}: {message}"))
            }
        }
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
