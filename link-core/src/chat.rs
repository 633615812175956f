//! What goes to a chat model and what comes back, whole or streamed.

use std::fmt;

use futures::stream::BoxStream;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Result;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person chatting.
    User,
    /// The character (the model).
    Assistant,
}

impl Role {
    /// The lower-case name used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One turn of model input: a role and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl ChatMessage {
    /// A user turn.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant (character) turn.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// Sampling settings. `None` leaves the provider's default in place.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationParams {
    /// Most tokens to generate.
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling mass.
    pub top_p: Option<f32>,
    /// Top-k sampling (Nova, local models).
    pub top_k: Option<u32>,
    /// Sequences that end the reply.
    pub stop: Vec<String>,
}

/// A complete model input: the system prompt, the turns so far, and sampling settings.
///
/// The engine builds this with the [`PromptBuilder`](crate::PromptBuilder); the turns always
/// start with a user turn and alternate, which every provider accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// Instructions and the persona, framed as data.
    pub system: String,
    /// The conversation, oldest first, ending with the user's newest turn.
    pub messages: Vec<ChatMessage>,
    /// Sampling settings.
    pub params: GenerationParams,
}

/// Token counts reported by a provider. A provider that reports nothing gives `None`
/// (`Option<Usage>`), never zeros.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Their sum, as the provider reported it.
    pub total_tokens: u64,
}

impl Usage {
    /// Usage from input and output counts; the total is their sum.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens + output_tokens,
        }
    }
}

/// Why a reply ended. Unknown provider reasons are kept as [`StopReason::Other`], never an
/// error. On the wire it is a snake_case string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The model finished its turn.
    EndTurn,
    /// The token limit was reached.
    MaxTokens,
    /// A stop sequence was produced.
    StopSequence,
    /// A guardrail replaced or blocked the content.
    GuardrailIntervened,
    /// The provider's content filter stopped the output.
    ContentFiltered,
    /// The caller went away before the reply ended.
    Cancelled,
    /// A reason this version of Link does not know, as the provider said it.
    Other(String),
}

impl StopReason {
    /// The snake_case name.
    pub fn as_str(&self) -> &str {
        match self {
            StopReason::EndTurn => "end_turn",
            StopReason::MaxTokens => "max_tokens",
            StopReason::StopSequence => "stop_sequence",
            StopReason::GuardrailIntervened => "guardrail_intervened",
            StopReason::ContentFiltered => "content_filtered",
            StopReason::Cancelled => "cancelled",
            StopReason::Other(other) => other,
        }
    }

    /// Parses a snake_case name; anything unknown becomes [`StopReason::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "end_turn" => StopReason::EndTurn,
            "max_tokens" => StopReason::MaxTokens,
            "stop_sequence" => StopReason::StopSequence,
            "guardrail_intervened" => StopReason::GuardrailIntervened,
            "content_filtered" => StopReason::ContentFiltered,
            "cancelled" => StopReason::Cancelled,
            other => StopReason::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StopReason {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StopReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(StopReason::parse(&s))
    }
}

/// A whole reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The reply text (for a guardrail intervention, the guardrail's message).
    pub text: String,
    /// Why it ended.
    pub stop_reason: StopReason,
    /// Token counts, if the provider reported them.
    pub usage: Option<Usage>,
}

/// One event of a streamed reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChatEvent {
    /// More reply text.
    Delta {
        /// The new text.
        text: String,
    },
    /// A guardrail intervened; the reply so far may be replaced by `message`.
    GuardrailIntervened {
        /// The guardrail's message, safe to show.
        message: Option<String>,
    },
    /// The reply ended; always the last event of a successful stream.
    Done {
        /// Why it ended.
        stop_reason: StopReason,
        /// Token counts, if the provider reported them.
        usage: Option<Usage>,
    },
}

/// A streamed reply. Dropping it cancels the call.
///
/// The `Result` around the stream (returned by [`ChatModel::stream`](crate::ChatModel::stream))
/// is "failed before the first token"; an `Err` item inside is a mid-stream failure.
pub type ChatStream = BoxStream<'static, Result<ChatEvent>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reasons_round_trip_and_keep_unknown_values() {
        for reason in [StopReason::EndTurn, StopReason::GuardrailIntervened] {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(serde_json::from_str::<StopReason>(&json).unwrap(), reason);
        }
        let odd: StopReason = serde_json::from_str("\"eos_token\"").unwrap();
        assert_eq!(odd, StopReason::Other("eos_token".into()));
    }
}
