//! `POST /v1/chat`: the reference system's single endpoint.

use link_core::Persona;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use crate::PersonaSchema;

/// `POST /v1/chat`: the reference system's single endpoint.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatBody {
    /// A character request (no conversation yet) or a message; not all spaces.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub prompt: String,
    /// The conversation to continue, if any.
    #[cfg_attr(
        feature = "openapi",
        schema(
            format = "uuid",
            pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        )
    )]
    pub conversation_id: Option<String>,
}

/// `POST /v1/chat` answer.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatReplyBody {
    /// The character's words.
    pub completion: String,
    /// The conversation (new when a character was created).
    pub conversation_id: String,
    /// The character.
    #[cfg_attr(feature = "openapi", schema(value_type = PersonaSchema))]
    pub persona: Persona,
}
