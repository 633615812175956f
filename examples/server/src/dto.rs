//! The API's JSON shapes. They are the wire contract (and the OpenAPI schemas), kept apart
//! from the engine's types so that either can change without silently changing the other.

use link_core::{Conversation, ConversationDetail, Message, Persona, Usage};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// Stands for `link_core::Persona` in the OpenAPI document; its schema is generated from the
/// Rust type by schemars (see `openapi.rs`).
pub struct PersonaSchema;

impl PartialSchema for PersonaSchema {
    fn schema() -> RefOr<Schema> {
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Persona"))
    }
}

impl ToSchema for PersonaSchema {}

/// A stored message.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageBody {
    /// Its id.
    pub id: String,
    /// `user` or `assistant`.
    pub role: String,
    /// Its text.
    pub content: String,
    /// When it was stored (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<Message> for MessageBody {
    fn from(m: Message) -> Self {
        Self {
            id: m.id.to_string(),
            role: m.role.as_str().to_owned(),
            content: m.content,
            created_at: m.created_at,
        }
    }
}

/// A conversation with its messages.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationBody {
    /// Its id.
    pub id: String,
    /// The character.
    #[schema(value_type = PersonaSchema)]
    pub persona: Persona,
    /// Its messages, oldest first; the first is the greeting.
    pub messages: Vec<MessageBody>,
    /// When it was created (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When a message was last added (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<ConversationDetail> for ConversationBody {
    fn from(detail: ConversationDetail) -> Self {
        let c = detail.conversation;
        Self {
            id: c.id.to_string(),
            persona: c.persona,
            messages: detail.messages.into_iter().map(MessageBody::from).collect(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A conversation without its messages.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationSummary {
    /// Its id.
    pub id: String,
    /// The character.
    #[schema(value_type = PersonaSchema)]
    pub persona: Persona,
    /// When it was created (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When a message was last added (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<Conversation> for ConversationSummary {
    fn from(c: Conversation) -> Self {
        Self {
            id: c.id.to_string(),
            persona: c.persona,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// The caller's conversations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationList {
    /// Most recently updated first.
    pub conversations: Vec<ConversationSummary>,
}

/// `POST /v1/conversations`: either a free-text request or a ready persona.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateConversation {
    /// Who to talk to, e.g. "Sherlock Holmes".
    pub persona_request: Option<String>,
    /// A persona to use as it is.
    #[schema(value_type = Option<PersonaSchema>)]
    pub persona: Option<Persona>,
}

/// `POST /v1/personas`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonaRequest {
    /// Who to extract, e.g. "Ada Lovelace" or "a grumpy pirate who loves cats".
    pub request: String,
}

/// `POST /v1/conversations/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendMessage {
    /// The user's message.
    pub content: String,
}

/// Token counts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsageBody {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Total.
    pub total_tokens: u64,
}

impl From<Usage> for UsageBody {
    fn from(u: Usage) -> Self {
        Self {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            total_tokens: u.total_tokens,
        }
    }
}

/// The character's reply.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReplyBody {
    /// The stored reply.
    pub message: MessageBody,
    /// Token counts; null when the provider did not report them.
    pub usage: Option<UsageBody>,
    /// Why the reply ended (`end_turn`, `max_tokens`, `stop_sequence`, ...).
    pub stop_reason: String,
}

/// `POST /v1/chat`: the reference system's single endpoint.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatBody {
    /// A character request (no conversation yet) or a message.
    pub prompt: String,
    /// The conversation to continue, if any.
    pub conversation_id: Option<String>,
}

/// `POST /v1/chat` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChatReplyBody {
    /// The character's words.
    pub completion: String,
    /// The conversation (new when a character was created).
    pub conversation_id: String,
    /// The character.
    #[schema(value_type = PersonaSchema)]
    pub persona: Persona,
}

/// SSE `delta` event data.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeltaEvent {
    /// More reply text.
    pub text: String,
}

/// SSE `done` event data.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoneEvent {
    /// Why the reply ended.
    pub stop_reason: String,
    /// Token counts, or null.
    pub usage: Option<UsageBody>,
    /// The id of the stored reply.
    pub message_id: String,
}

/// Liveness and readiness answers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthBody {
    /// `ok`, `ready` or `not_ready`.
    pub status: String,
}

/// `GET /v1/auth/mode` answer: how the page should sign people in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthModeBody {
    /// `dev` (a name is enough: `POST /v1/auth/token`) or `cognito` (accounts:
    /// `/v1/auth/signup`, `/confirm`, `/login`, `/refresh`).
    pub mode: String,
}

/// `POST /v1/auth/signup`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignUpBody {
    /// The username to sign in with.
    pub username: String,
    /// The password (checked against the pool's password policy).
    pub password: String,
    /// Where the confirmation code is sent.
    pub email: String,
}

/// `POST /v1/auth/signup` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SignUpReply {
    /// Whether the account is already confirmed (otherwise a code was emailed).
    pub user_confirmed: bool,
}

/// `POST /v1/auth/confirm`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfirmBody {
    /// The username signed up with.
    pub username: String,
    /// The emailed confirmation code.
    pub code: String,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// `POST /v1/auth/login` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginReply {
    /// The ID token: send it as `Authorization: Bearer <id_token>`.
    pub id_token: String,
    /// The access token (also accepted as a bearer token unless `COGNITO_TOKEN_USE` says otherwise).
    pub access_token: String,
    /// Exchanges for new tokens at `POST /v1/auth/refresh`.
    pub refresh_token: String,
    /// Seconds until the ID and access tokens expire.
    pub expires_in: u64,
}

/// `POST /v1/auth/refresh`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    /// The refresh token from `POST /v1/auth/login`.
    pub refresh_token: String,
    /// The username signed in with; needed only when the app client has a secret (Cognito's
    /// secret hash for refreshing is computed over it).
    pub username: Option<String>,
}

/// `POST /v1/auth/refresh` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RefreshReply {
    /// A new ID token.
    pub id_token: String,
    /// A new access token.
    pub access_token: String,
    /// Seconds until they expire.
    pub expires_in: u64,
}
