//! `GET /v1/me/usage`: the model tokens the caller's conversations used in a month.

use link_core::{ConversationUsage, MonthUsage, TokenTally};
use serde::{Deserialize, Serialize};

/// Token counts added up over model calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenTallyBody {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Prompt and generated tokens together.
    pub total_tokens: u64,
    /// How many model calls reported these tokens.
    pub calls: u64,
}

impl From<TokenTally> for TokenTallyBody {
    fn from(t: TokenTally) -> Self {
        Self {
            input_tokens: t.input_tokens,
            output_tokens: t.output_tokens,
            total_tokens: t.total_tokens(),
            calls: t.calls,
        }
    }
}

/// What one conversation used in the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationTokensBody {
    /// The conversation's id.
    pub id: String,
    /// The character's name; null if the conversation has been deleted since (its tokens
    /// still count).
    pub name: Option<String>,
    /// Its tokens that month.
    #[serde(flatten)]
    pub tokens: TokenTallyBody,
}

impl From<ConversationUsage> for ConversationTokensBody {
    fn from(c: ConversationUsage) -> Self {
        Self {
            id: c.conversation.to_string(),
            name: c.name,
            tokens: c.tokens.into(),
        }
    }
}

/// `GET /v1/me/usage`: the model tokens the caller's conversations used in a month (UTC), as
/// the model reported them for each call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenUsageReply {
    /// The month, `YYYY-MM`.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "2026-03", pattern = r"^\d{4}-\d{2}$")
    )]
    pub month: String,
    /// All conversations together.
    pub total: TokenTallyBody,
    /// Each conversation that used tokens that month, the most tokens first.
    pub conversations: Vec<ConversationTokensBody>,
}

impl From<MonthUsage> for TokenUsageReply {
    fn from(u: MonthUsage) -> Self {
        Self {
            month: u.month.to_string(),
            total: u.total.into(),
            conversations: u.conversations.into_iter().map(Into::into).collect(),
        }
    }
}
