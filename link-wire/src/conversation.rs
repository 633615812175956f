//! Conversations and their messages: what `/v1/conversations` takes and gives.

use link_core::{
    Conversation, ConversationDetail, ConversationMemory, Message, Persona, Reply, Usage,
};

use crate::{ForkOriginBody, UserPersonaBody};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[cfg(feature = "openapi")]
use crate::PersonaSchema;

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageBody {
    /// Its id.
    pub id: String,
    /// `user` or `assistant`.
    pub role: String,
    /// Its text: the chosen version.
    pub content: String,
    /// When it was stored (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    /// Every version (regenerated replies, alternate greetings), oldest first, when there is
    /// more than one; empty otherwise.
    #[serde(default)]
    pub alternatives: Vec<String>,
    /// The index of `content` in `alternatives` (0 when there is one version).
    #[serde(default)]
    pub chosen: usize,
    /// The reply was cut short because the client went away: offer to regenerate it.
    #[serde(default)]
    pub interrupted: bool,
    /// When the owner last edited it (RFC 3339), or null.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub edited_at: Option<OffsetDateTime>,
}

impl From<Message> for MessageBody {
    fn from(m: Message) -> Self {
        Self {
            id: m.id.to_string(),
            role: m.role.as_str().to_owned(),
            content: m.content,
            created_at: m.created_at,
            alternatives: m.alternatives,
            chosen: m.chosen,
            interrupted: m.interrupted,
            edited_at: m.edited_at,
        }
    }
}

/// What the character remembers of a conversation: the summary of turns that left the
/// model's window (written by a model, editable by the owner) and the owner's pinned facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemoryBody {
    /// The summary; empty until turns leave the window (or the owner writes one). At most
    /// 4,000 characters.
    #[serde(default)]
    pub summary: String,
    /// The newest message the summary covers, or null.
    #[serde(default)]
    pub covered_through: Option<String>,
    /// Facts always in the prompt: at most 20, each at most 200 characters.
    #[serde(default)]
    pub pinned_facts: Vec<String>,
    /// When the memory last changed (RFC 3339), or null.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub updated_at: Option<OffsetDateTime>,
}

impl From<ConversationMemory> for MemoryBody {
    fn from(m: ConversationMemory) -> Self {
        Self {
            summary: m.summary,
            covered_through: m.covered_through.map(|id| id.to_string()),
            pinned_facts: m.pinned,
            updated_at: m.updated_at,
        }
    }
}

/// A conversation with its messages.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationBody {
    /// Its id.
    pub id: String,
    /// The character.
    #[cfg_attr(feature = "openapi", schema(value_type = PersonaSchema))]
    pub persona: Persona,
    /// Its messages, oldest first; the first is the greeting.
    pub messages: Vec<MessageBody>,
    /// When it was created (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    /// When a message was last added or changed (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    /// Where it was forked from, or null.
    #[serde(default)]
    pub forked_from: Option<ForkOriginBody>,
    /// Who the user is in this conversation (overriding their default), or null.
    #[serde(default)]
    pub user_persona: Option<UserPersonaBody>,
    /// What the character remembers of it.
    #[serde(default)]
    pub memory: MemoryBody,
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
            forked_from: c.origin.map(ForkOriginBody::from),
            user_persona: c.user_persona.map(UserPersonaBody::from),
            memory: MemoryBody::from(c.memory),
        }
    }
}

/// A conversation without its messages.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSummary {
    /// Its id.
    pub id: String,
    /// The character.
    #[cfg_attr(feature = "openapi", schema(value_type = PersonaSchema))]
    pub persona: Persona,
    /// When it was created (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    /// When a message was last added or changed (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
    /// Where it was forked from, or null.
    #[serde(default)]
    pub forked_from: Option<ForkOriginBody>,
    /// Who the user is in this conversation (overriding their default), or null.
    #[serde(default)]
    pub user_persona: Option<UserPersonaBody>,
    /// What the character remembers of it.
    #[serde(default)]
    pub memory: MemoryBody,
}

impl From<Conversation> for ConversationSummary {
    fn from(c: Conversation) -> Self {
        Self {
            id: c.id.to_string(),
            persona: c.persona,
            created_at: c.created_at,
            updated_at: c.updated_at,
            forked_from: c.origin.map(ForkOriginBody::from),
            user_persona: c.user_persona.map(UserPersonaBody::from),
            memory: MemoryBody::from(c.memory),
        }
    }
}

/// A page of the caller's conversations.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationList {
    /// Most recently updated first.
    pub conversations: Vec<ConversationSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// `POST /v1/conversations`: either a free-text request or a ready persona.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateConversation {
    /// Who to talk to, e.g. "Sherlock Holmes": at most 500 characters once trimmed, not all
    /// of them spaces.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 500, pattern = r"\S")
    )]
    pub persona_request: Option<String>,
    /// A persona to use as it is.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<PersonaSchema>))]
    pub persona: Option<Persona>,
}

/// `POST /v1/conversations/{id}/messages`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendMessage {
    /// The user's message: not all spaces, and at most the server's limit of characters
    /// (8,000 unless configured otherwise).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub content: String,
}

/// Token counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyBody {
    /// The stored reply.
    pub message: MessageBody,
    /// Token counts; null when the provider did not report them.
    pub usage: Option<UsageBody>,
    /// Why the reply ended (`end_turn`, `max_tokens`, `stop_sequence`, ...).
    pub stop_reason: String,
}

impl From<Reply> for ReplyBody {
    fn from(reply: Reply) -> Self {
        Self {
            message: MessageBody::from(reply.message),
            usage: reply.usage.map(UsageBody::from),
            stop_reason: reply.stop_reason.to_string(),
        }
    }
}
