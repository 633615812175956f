//! The Server-Sent Events of a streamed reply: `delta` events, then `done` or `error`
//! (whose data is an [`ErrorDetail`](crate::ErrorDetail)).

use link_core::{Message, StopReason, Usage};
use serde::{Deserialize, Serialize};

use crate::{MessageBody, UsageBody};

/// The SSE event name of more reply text ([`DeltaEvent`]).
pub const DELTA: &str = "delta";
/// The SSE event name of a finished, stored reply ([`DoneEvent`]).
pub const DONE: &str = "done";
/// The SSE event name of a failure mid-stream ([`ErrorDetail`](crate::ErrorDetail)).
pub const ERROR: &str = "error";

/// SSE `delta` event data.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeltaEvent {
    /// More reply text.
    pub text: String,
}

/// SSE `done` event data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoneEvent {
    /// Why the reply ended.
    pub stop_reason: String,
    /// Token counts, or null.
    pub usage: Option<UsageBody>,
    /// The id of the stored reply.
    pub message_id: String,
    /// The stored reply: its versions when it was regenerated, and which one is chosen.
    /// Always sent by this server; absent from servers older than the chat controls.
    #[serde(default)]
    pub message: Option<MessageBody>,
}

impl DoneEvent {
    /// The `done` event of a turn that ended with the stored `message`.
    pub fn new(message: &Message, stop_reason: &StopReason, usage: Option<Usage>) -> Self {
        Self {
            stop_reason: stop_reason.to_string(),
            usage: usage.map(UsageBody::from),
            message_id: message.id.to_string(),
            message: Some(MessageBody::from(message.clone())),
        }
    }
}
