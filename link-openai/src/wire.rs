//! The Chat Completions wire format: what is sent, and a tolerant view of what comes back.
//!
//! Responses are read leniently on purpose: OpenAI-compatible servers add fields, omit
//! others, send `null` where OpenAI sends a list, or invent finish reasons. Unknown fields
//! are ignored and every field that may be missing is optional.

use link_core::{ChatRequest, Role, StopReason, Usage};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::config::{MaxTokensParam, OpenAiConfig};

/// A `POST /chat/completions` body.
#[derive(Debug, Serialize)]
pub(crate) struct CompletionRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub stop: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
}

impl<'a> CompletionRequest<'a> {
    /// A request with only the model and messages set.
    pub fn new(config: &'a OpenAiConfig, messages: Vec<WireMessage<'a>>) -> Self {
        Self {
            model: &config.model,
            messages,
            max_tokens: None,
            max_completion_tokens: None,
            temperature: None,
            top_p: None,
            stop: &[],
            stream: false,
            stream_options: None,
            response_format: None,
        }
    }

    /// A request for a Link chat turn: the system prompt, the turns, the sampling settings.
    /// `top_k` has no Chat Completions field and is left out.
    pub fn for_chat(config: &'a OpenAiConfig, request: &'a ChatRequest) -> Self {
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        if !request.system.is_empty() {
            messages.push(WireMessage::new("system", &request.system));
        }
        messages.extend(
            request
                .messages
                .iter()
                .map(|m| WireMessage::new(role_name(m.role), &m.content)),
        );
        let mut body = Self::new(config, messages);
        body.set_max_tokens(config.max_tokens_param, request.params.max_tokens);
        body.temperature = request.params.temperature;
        body.top_p = request.params.top_p;
        body.stop = &request.params.stop;
        body
    }

    /// Sets the token limit in the field the configuration names.
    pub fn set_max_tokens(&mut self, param: MaxTokensParam, limit: Option<u32>) {
        match param {
            MaxTokensParam::MaxTokens => self.max_tokens = limit,
            MaxTokensParam::MaxCompletionTokens => self.max_completion_tokens = limit,
        }
    }

    /// Turns this into a streaming request.
    pub fn streaming(mut self, include_usage: bool) -> Self {
        self.stream = true;
        self.stream_options = include_usage.then_some(StreamOptions {
            include_usage: true,
        });
        self
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// One message of a request.
#[derive(Debug, Serialize)]
pub(crate) struct WireMessage<'a> {
    pub role: &'static str,
    pub content: &'a str,
}

impl<'a> WireMessage<'a> {
    pub fn new(role: &'static str, content: &'a str) -> Self {
        Self { role, content }
    }
}

/// `stream_options`.
#[derive(Debug, Serialize)]
pub(crate) struct StreamOptions {
    pub include_usage: bool,
}

/// A whole completion.
#[derive(Debug, Deserialize)]
pub(crate) struct Completion {
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// One choice of a whole completion.
#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub message: Option<AssistantMessage>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// The assistant's message: text, or a refusal.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AssistantMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
}

/// One streamed chunk (`chat.completion.chunk`), or an error object.
#[derive(Debug, Deserialize)]
pub(crate) struct Chunk {
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(default)]
    pub error: Option<Value>,
}

/// One choice of a chunk.
#[derive(Debug, Deserialize)]
pub(crate) struct ChunkChoice {
    #[serde(default)]
    pub delta: Option<AssistantMessage>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// `usage`; any count may be missing on a compatible server.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    #[serde(default)]
    pub total_tokens: Option<u64>,
}

impl WireUsage {
    /// Link's usage, or `None` when the counts that matter are missing (never zeros).
    pub fn to_usage(self) -> Option<Usage> {
        let input = self.prompt_tokens?;
        let output = self.completion_tokens?;
        Some(Usage {
            input_tokens: input,
            output_tokens: output,
            // Saturating: the counts come from the server, and an absurd pair must not panic.
            total_tokens: self.total_tokens.unwrap_or(input.saturating_add(output)),
        })
    }
}

/// Link's stop reason for an OpenAI `finish_reason`; unknown ones are kept as
/// [`StopReason::Other`], a missing one is `Other("unknown")`.
pub(crate) fn stop_reason(finish_reason: Option<&str>) -> StopReason {
    match finish_reason {
        Some("stop") => StopReason::EndTurn,
        Some("length") => StopReason::MaxTokens,
        Some("content_filter") => StopReason::ContentFiltered,
        Some(other) => StopReason::Other(other.to_owned()),
        None => StopReason::Other("unknown".to_owned()),
    }
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn finish_reasons_map_and_unknown_ones_are_kept() {
        assert_eq!(stop_reason(Some("stop")), StopReason::EndTurn);
        assert_eq!(stop_reason(Some("length")), StopReason::MaxTokens);
        assert_eq!(
            stop_reason(Some("content_filter")),
            StopReason::ContentFiltered
        );
        assert_eq!(stop_reason(Some("eos")), StopReason::Other("eos".into()));
    }

    #[test]
    fn lenient_parsing_of_odd_responses() {
        let odd: Completion = serde_json::from_str(
            r#"{"choices":[{"message":{"content":"hi","extra":1},"finish_reason":"eos","logprobs":null}],"usage":{"prompt_tokens":3},"system_fingerprint":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            odd.choices[0].message.as_ref().unwrap().content.as_deref(),
            Some("hi")
        );
        assert_eq!(
            odd.usage.unwrap().to_usage(),
            None,
            "partial usage is no usage"
        );
        let null: Chunk = serde_json::from_str(r#"{"choices":null}"#).unwrap();
        assert!(null.choices.is_empty());
        let usage = WireUsage {
            prompt_tokens: Some(2),
            completion_tokens: Some(3),
            total_tokens: None,
        };
        assert_eq!(usage.to_usage(), Some(Usage::new(2, 3)));
    }
}
