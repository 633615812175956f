//! The body of every error response: `{"error": {"code": "...", "message": "..."}}`, also the
//! data of the SSE `error` event.

use serde::{Deserialize, Serialize};

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A stable machine-readable code (`unauthorized`, `rate_limited`, `not_found`, ...): the
    /// codes of [`link_core::Error::code`].
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

impl ErrorDetail {
    /// What a client shows for an engine error: its code and the message the public may see
    /// (never a provider's raw body, never why a token was refused).
    pub fn from_error(error: &link_core::Error) -> Self {
        Self {
            code: error.code().to_owned(),
            message: error.public_message(),
        }
    }
}

impl ErrorDetail {
    /// The engine error this detail stands for, as a client reads it back from a response
    /// with `status` (None for an SSE `error` event) and its `Retry-After`: the reverse of
    /// the server's mapping, through the same table ([`link_core::Error::from_wire`]).
    ///
    /// ```
    /// use link_wire::ErrorDetail;
    /// let detail = ErrorDetail { code: "not_found".into(), message: "conversation not found".into() };
    /// assert_eq!(detail.to_error(Some(404), None), link_core::Error::not_found("conversation"));
    /// ```
    pub fn to_error(
        &self,
        status: Option<u16>,
        retry_after: Option<std::time::Duration>,
    ) -> link_core::Error {
        link_core::Error::from_wire(
            SERVER,
            &self.code,
            self.message.clone(),
            status,
            retry_after,
        )
    }
}

/// Who failed, in errors about the server itself (an unknown code, a broken connection).
pub const SERVER: &str = "link-server";
