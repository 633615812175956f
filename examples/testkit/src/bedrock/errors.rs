//! Bedrock's modelled errors: a status, `x-amzn-errortype` and a JSON `message`; and the
//! model ids that fail on purpose.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Throttled on its first call, fine after.
pub const THROTTLE_ONCE: &str = "mock.throttle-once-v1:0";
/// Always a ValidationException (400).
pub const VALIDATION: &str = "mock.validation-v1:0";
/// Always a ModelTimeoutException (408).
pub const TIMEOUT: &str = "mock.timeout-v1:0";
/// Always an AccessDeniedException (403).
pub const ACCESS_DENIED: &str = "mock.access-denied-v1:0";
/// Always a ServiceUnavailableException (503).
pub const UNAVAILABLE: &str = "mock.unavailable-v1:0";
/// A stream that ends with a throttlingException frame after its text.
pub const STREAM_THROTTLE: &str = "mock.stream-throttle-v1:0";
/// A stream whose frames arrive split across many reads.
pub const SPLIT_FRAMES: &str = "mock.split-frames-v1:0";
/// A stream cut off in the middle of a frame.
pub const CUT_MID_FRAME: &str = "mock.cut-mid-frame-v1:0";

/// A modelled error as Bedrock sends it.
pub fn error(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    let mut response = (status, axum::Json(json!({ "message": message }))).into_response();
    response
        .headers_mut()
        .insert("x-amzn-errortype", code.parse().unwrap());
    response
}

/// The error a failing model id gives on its `count`-th call; `None` means answer normally.
pub fn scripted_error(model: &str, count: usize) -> Option<Response> {
    match model {
        THROTTLE_ONCE if count == 1 => Some(error(429, "ThrottlingException", "Too many requests")),
        VALIDATION => Some(error(400, "ValidationException", "Malformed input request")),
        TIMEOUT => Some(error(408, "ModelTimeoutException", "Model timed out")),
        ACCESS_DENIED => Some(error(
            403,
            "AccessDeniedException",
            "No access to the model",
        )),
        UNAVAILABLE => Some(error(503, "ServiceUnavailableException", "Try later")),
        _ => None,
    }
}
