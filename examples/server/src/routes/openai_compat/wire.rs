//! The JSON shapes of OpenAI's API that these routes take and give (the subset Link
//! implements), as OpenAI's API reference and its SDKs define them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// OpenAI's error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiErrorBody {
    /// The error.
    pub error: OpenAiError,
}

/// What went wrong, in OpenAI's words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiError {
    /// For people.
    pub message: String,
    /// Its kind: `invalid_request_error`, `requests` (rate limited) or `server_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The request parameter at fault, when one is.
    pub param: Option<String>,
    /// For programs: OpenAI's code where it has one (`invalid_api_key`, `model_not_found`,
    /// `rate_limit_exceeded`, `unsupported_parameter`, `unsupported_value`), else Link's.
    pub code: Option<String>,
}

/// `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelList {
    /// Always `list`.
    pub object: String,
    /// The models: the caller's conversations, most recently used first.
    pub data: Vec<ModelObject>,
}

/// One of the caller's conversations as a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelObject {
    /// `link/<conversation id>`; `:stored` or `:stateless` may be added to pick the mode.
    pub id: String,
    /// Always `model`.
    pub object: String,
    /// When the conversation started (Unix seconds).
    pub created: i64,
    /// The character's name (what clients that show `owned_by` show).
    pub owned_by: String,
    /// The character's name (what Open WebUI shows).
    pub name: String,
}

/// `POST /v1/chat/completions`. Parameters not listed here are refused with
/// `unsupported_parameter`, except a null value or a neutral one (`frequency_penalty` and
/// `presence_penalty` 0, `logit_bias` empty), which asks for nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatCompletionBody {
    /// `link/<conversation id>`, optionally with `:stored` or `:stateless`.
    #[schema(min_length = 1)]
    pub model: String,
    /// The conversation as the client has it. Stored mode uses only the last (a user
    /// message) and the `system` ones; stateless mode uses them all. At least one.
    #[schema(min_items = 1)]
    pub messages: Vec<CompletionMessage>,
    /// Stream the reply as `chat.completion.chunk` events.
    #[serde(default)]
    pub stream: Option<bool>,
    /// With `stream`: `include_usage` adds a last chunk with the usage.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Most tokens of reply (Link's own limit still applies).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub max_tokens: Option<u32>,
    /// The same as `max_tokens` (OpenAI's newer name); wins over it.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub max_completion_tokens: Option<u32>,
    /// Sampling temperature, 0 to 2.
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 2.0)]
    pub temperature: Option<f32>,
    /// Nucleus sampling mass, 0 to 1.
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub top_p: Option<f32>,
    /// Up to 4 sequences that end the reply.
    #[serde(default)]
    pub stop: Option<Stop>,
    /// How many replies: only 1.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1)]
    pub n: Option<u32>,
    /// The client's id for its end user; accepted, not used (the caller is the token's user).
    #[serde(default)]
    pub user: Option<String>,
}

/// One message of [`ChatCompletionBody`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompletionMessage {
    /// `system` or `developer` (the user's instructions), `user` or `assistant`.
    pub role: String,
    /// The text, or an array of text parts.
    pub content: MessageContent,
    /// A participant's name; accepted, not used.
    #[serde(default)]
    pub name: Option<String>,
}

/// A message's content: text, or text parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Parts; only `text` parts are accepted.
    Parts(Vec<ContentPart>),
}

/// A part of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContentPart {
    /// Only `text`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
}

/// `stop`: one sequence or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Stop {
    /// One sequence.
    One(String),
    /// Up to 4.
    Many(Vec<String>),
}

/// `stream_options`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamOptions {
    /// Add a last chunk with `usage` (and `"usage": null` on the others).
    #[serde(default)]
    pub include_usage: Option<bool>,
}

/// A whole reply (`chat.completion`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatCompletion {
    /// `chatcmpl-<message id>`.
    pub id: String,
    /// Always `chat.completion`.
    pub object: String,
    /// When it was made (Unix seconds).
    pub created: i64,
    /// The model as the request named it.
    pub model: String,
    /// The one reply.
    pub choices: Vec<Choice>,
    /// Tokens, when the chat model reported them (never made-up zeros).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<CompletionUsage>,
}

/// The reply of a [`ChatCompletion`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Choice {
    /// Always 0.
    pub index: u32,
    /// The character's words.
    pub message: AssistantMessage,
    /// `stop`, `length` or `content_filter`.
    pub finish_reason: String,
    /// Always null.
    #[schema(value_type = Option<Object>)]
    pub logprobs: Option<serde_json::Value>,
}

/// The character's message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssistantMessage {
    /// Always `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
    /// Always null.
    pub refusal: Option<String>,
}

/// Token counts in OpenAI's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CompletionUsage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Reply tokens.
    pub completion_tokens: u64,
    /// Both.
    pub total_tokens: u64,
}

impl From<link::Usage> for CompletionUsage {
    fn from(usage: link::Usage) -> Self {
        Self {
            prompt_tokens: usage.input_tokens,
            completion_tokens: usage.output_tokens,
            total_tokens: usage.total_tokens,
        }
    }
}

/// OpenAI's `finish_reason` for Link's stop reason.
pub fn finish_reason(reason: &link::StopReason) -> &'static str {
    match reason {
        link::StopReason::MaxTokens => "length",
        link::StopReason::ContentFiltered | link::StopReason::GuardrailIntervened => {
            "content_filter"
        }
        _ => "stop",
    }
}
