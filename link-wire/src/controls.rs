//! The chat controls: who the user is, conversation settings, editing and choosing message
//! versions, rewinding and forking.

use link_core::{ConversationPatch, ForkOrigin, UserPersona};
use serde::{Deserialize, Deserializer, Serialize};

/// Who the user is: the name the character calls them and what it knows about them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPersonaBody {
    /// One line, at most 64 characters.
    pub name: String,
    /// At most 1,000 characters.
    #[serde(default)]
    pub description: String,
}

impl From<UserPersona> for UserPersonaBody {
    fn from(p: UserPersona) -> Self {
        Self {
            name: p.name,
            description: p.description,
        }
    }
}

impl From<UserPersonaBody> for UserPersona {
    fn from(p: UserPersonaBody) -> Self {
        UserPersona::new(p.name, p.description)
    }
}

/// `GET` and `PUT /v1/me/persona`: the caller's default user persona, or null.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPersonaReply {
    /// Null when the caller has not set one.
    pub user_persona: Option<UserPersonaBody>,
}

/// `PATCH /v1/conversations/{id}`: a field left out is left as it is.
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateConversation {
    /// This conversation's user persona; `null` removes it (the caller's default applies).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<UserPersonaBody>))]
    pub user_persona: Option<Option<UserPersonaBody>>,
    /// The memory's summary, replacing what the character remembers of earlier turns (at
    /// most 4,000 characters; `""` empties it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// The pinned facts, replacing the list (at most 20, each at most 200 characters; `[]`
    /// removes them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_facts: Option<Vec<String>>,
}

impl From<UpdateConversation> for ConversationPatch {
    fn from(change: UpdateConversation) -> Self {
        let mut patch = ConversationPatch::default();
        if let Some(persona) = change.user_persona {
            patch = patch.user_persona(persona.map(UserPersona::from));
        }
        if let Some(summary) = change.memory {
            patch = patch.memory_summary(summary);
        }
        if let Some(facts) = change.pinned_facts {
            patch = patch.pinned_facts(facts);
        }
        patch
    }
}

/// A field that is present, even as `null`: `Some(None)` for `null`, `None` when absent
/// (through `#[serde(default)]`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// `PATCH /v1/conversations/{id}/messages/{message_id}`: exactly one of the two.
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EditMessage {
    /// New text for the chosen version (no reply is generated; see `.../resend`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Choose the version at this index (0 is the oldest) of `alternatives`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen: Option<usize>,
}

/// `POST /v1/conversations/{id}/rewind`: exactly one of the two. The first message (the
/// greeting) always stays.
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RewindBody {
    /// Remove the newest `turns` turns (a user message and what follows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns: Option<usize>,
    /// Remove everything after this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// What a rewind removed.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RewindReply {
    /// How many messages went.
    pub removed: usize,
}

/// `POST /v1/conversations/{id}/fork`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForkBody {
    /// The last message the fork keeps; the whole conversation when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
}

/// Where a fork came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForkOriginBody {
    /// The conversation forked.
    pub conversation_id: String,
    /// The last message the fork copied.
    pub message_id: String,
}

impl From<ForkOrigin> for ForkOriginBody {
    fn from(o: ForkOrigin) -> Self {
        Self {
            conversation_id: o.conversation.to_string(),
            message_id: o.message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_null_user_persona_clears_and_a_missing_one_keeps() {
        let clear: UpdateConversation = serde_json::from_str(r#"{"user_persona":null}"#).unwrap();
        assert_eq!(clear.user_persona, Some(None));
        let keep: UpdateConversation = serde_json::from_str("{}").unwrap();
        assert_eq!(keep.user_persona, None);
        let set: UpdateConversation =
            serde_json::from_str(r#"{"user_persona":{"name":"Ann"}}"#).unwrap();
        assert_eq!(set.user_persona.unwrap().unwrap().name, "Ann");
    }
}
