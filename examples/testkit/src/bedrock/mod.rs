//! A mock of Amazon Bedrock Runtime on 127.0.0.1 that speaks the real wire format (rest-json,
//! event-stream frames) and checks every request as Bedrock does: a SigV4 signature
//! recomputed with the client's test credentials, the model id percent-encoded in the path,
//! the Converse / Nova body shapes, guardrail configuration. It records every request.
//!
//! Behaviour is chosen by the model id ([`errors`]: modelled errors, a throttled stream,
//! frames split across reads, a stream cut mid-frame) and by the request's content (the
//! guardrail's [`TRIGGER`], the persona shapes of [`persona`]), so one server serves every
//! test. Operations: Converse, ConverseStream, InvokeModel, ApplyGuardrail.

pub mod converse;
pub mod errors;
pub mod frames;
pub mod guardrail;
pub mod invoke;
pub mod persona;
pub mod server;
pub mod sigv4;

pub use errors::{
    ACCESS_DENIED, CUT_MID_FRAME, SPLIT_FRAMES, STREAM_THROTTLE, THROTTLE_ONCE, TIMEOUT,
    UNAVAILABLE, VALIDATION, error,
};
pub use frames::{Framing, frame};
pub use server::{Mock, MockState, REGION, Recorded, Setup, Speaker};

/// The guardrail's message when it intervenes.
pub const BLOCKED: &str = "Sorry, the model cannot answer this question.";
/// The word that makes the mock guardrail intervene.
pub const TRIGGER: &str = "forbidden";
