//! Test helpers (feature `test-util`): mocks of every port, a scripted chat model and
//! extractor, and the conformance suites that every adapter's tests run (one function per
//! rule, and one per port that runs them all).
//!
//! ```toml
//! [dev-dependencies]
//! link-core = { version = "0.1", features = ["test-util"] }
//! ```

pub mod conformance;
mod events;
mod moderator;
mod recording;
mod scripted;

pub use crate::moderation::MockModerator;
pub use crate::ports::{
    MockAuditSink, MockAuthenticator, MockChatModel, MockConversationStore, MockPersonaExtractor,
    MockRateLimiter,
};
pub use events::text_of;
pub use moderator::ScriptedModerator;
pub use recording::RecordingAuditSink;
pub use scripted::{ScriptedChatModel, ScriptedExtractor, Step};
