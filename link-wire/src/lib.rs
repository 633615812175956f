//! # link-wire
//!
//! The JSON shapes of Link's HTTP API: requests, responses, the Server-Sent Events of a
//! streamed reply and the error body. `link-server` serialises them; the `link` CLI's remote
//! mode (and any Rust client) deserialises them. With the `openapi` feature every type
//! derives `utoipa::ToSchema`, which is how the server's OpenAPI document is generated.
//!
//! They are kept apart from the engine's types so that either can change without silently
//! changing the other; `From` conversions go from the engine's types to these.
//!
//! ```
//! use link_wire::{ErrorBody, SendMessage};
//! let body = serde_json::to_string(&SendMessage { content: "Hello".into() }).unwrap();
//! assert_eq!(body, r#"{"content":"Hello"}"#);
//! let error: ErrorBody =
//!     serde_json::from_str(r#"{"error":{"code":"not_found","message":"conversation not found"}}"#)
//!         .unwrap();
//! assert_eq!(error.error.code, "not_found");
//! ```

mod auth;
mod chat;
mod controls;
mod conversation;
mod error;
pub mod events;
mod health;
mod keys;
mod lorebook;
mod persona;
mod token_usage;

pub use auth::{
    AuthModeBody, ConfirmBody, LoginBody, LoginReply, RefreshBody, RefreshReply, SignOutBody,
    SignUpBody, SignUpReply, TokenRequest, TokenResponse,
};
pub use chat::{ChatBody, ChatReplyBody};
pub use controls::{
    EditMessage, ForkBody, ForkOriginBody, RewindBody, RewindReply, UpdateConversation,
    UserPersonaBody, UserPersonaReply,
};
pub use conversation::{
    ConversationBody, ConversationList, ConversationSummary, CreateConversation, MemoryBody,
    MessageBody, ReplyBody, SendMessage, UsageBody,
};
pub use error::{ErrorBody, ErrorDetail, SERVER};
pub use events::{DeltaEvent, DoneEvent};
pub use health::HealthBody;
pub use keys::{ApiKeyBody, ApiKeyList, CreateApiKey, CreatedApiKey};
pub use lorebook::LorebookReply;
#[cfg(feature = "openapi")]
pub use lorebook::LorebookSchema;
pub use persona::PersonaRequest;
pub use token_usage::{ConversationTokensBody, TokenTallyBody, TokenUsageReply};

/// Stands for `link_core::Persona` in the OpenAPI document; its schema is generated from the
/// Rust type by schemars and added to the document by the server.
#[cfg(feature = "openapi")]
pub struct PersonaSchema;

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PersonaSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        utoipa::openapi::RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Persona"))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PersonaSchema {}
