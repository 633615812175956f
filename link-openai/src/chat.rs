//! [`OpenAiChatModel`]: Link's [`ChatModel`] over Chat Completions, whole or streamed.

use std::sync::Arc;

use async_trait::async_trait;
use link_core::{ChatModel, ChatRequest, ChatResponse, ChatStream, Error, Result, TokenCounter};

use crate::config::OpenAiConfig;
use crate::models;
use crate::sse;
use crate::transport::Transport;
use crate::wire::{self, Completion, CompletionRequest};

/// Plays a persona with an OpenAI (or OpenAI-compatible) chat model.
///
/// Whole replies use one `POST /chat/completions`; streams add `stream: true` and
/// `stream_options.include_usage`, and are read with an SSE parser. `finish_reason` maps to
/// [`StopReason`](link_core::StopReason) (`stop` -> `EndTurn`, `length` -> `MaxTokens`,
/// `content_filter` -> `ContentFiltered`, anything else -> `Other`); usage the server did not
/// report is `None`. A refusal (`message.refusal`) is returned as the reply text: in a chat it
/// is the character's answer. Retries happen before a reply starts, never mid-stream.
///
/// ```no_run
/// use futures::StreamExt;
/// use link_core::{ChatEvent, ChatMessage, ChatModel, ChatRequest, GenerationParams};
/// use link_openai::{OpenAiChatModel, OpenAiConfig};
///
/// # async fn demo() -> link_core::Result<()> {
/// let model = OpenAiChatModel::new(OpenAiConfig::from_env()?);
/// let request = ChatRequest {
///     system: "You are a cheerful pirate.".into(),
///     messages: vec![ChatMessage::user("Ahoy!")],
///     params: GenerationParams::default(),
/// };
/// let mut stream = model.stream(request).await?;
/// while let Some(event) = stream.next().await {
///     if let ChatEvent::Delta { text } = event? {
///         print!("{text}");
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiChatModel {
    transport: Transport,
    context_window: Option<usize>,
}

impl OpenAiChatModel {
    /// A chat model with this configuration (its model is the one used).
    pub fn new(config: OpenAiConfig) -> Self {
        Self {
            transport: Transport::new(config),
            context_window: None,
        }
    }

    /// Says the model's context window is `tokens`, instead of the known models' table (see
    /// [`ChatModel::context_window`]): for a model the table does not know (an
    /// OpenAI-compatible server's) or a deployment with a smaller window.
    ///
    /// ```
    /// use link_core::ChatModel;
    /// use link_openai::{OpenAiChatModel, OpenAiConfig};
    ///
    /// let config = OpenAiConfig::builder().api_key("sk-test").model("gpt-4o-mini").build().unwrap();
    /// assert_eq!(OpenAiChatModel::new(config.clone()).context_window(), 128_000);
    /// let ollama = config.with_model("llama3.2");
    /// assert_eq!(OpenAiChatModel::new(ollama).with_context_window(4096).context_window(), 4096);
    /// ```
    pub fn with_context_window(mut self, tokens: usize) -> Self {
        self.context_window = Some(tokens);
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &OpenAiConfig {
        &self.transport.config
    }
}

#[async_trait]
impl ChatModel for OpenAiChatModel {
    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse> {
        let body = CompletionRequest::for_chat(&self.transport.config, &request);
        let response = self.transport.post_chat(&body, false).await?;
        let completion: Completion = self.transport.read_json(response).await?;
        let usage = completion.usage.and_then(wire::WireUsage::to_usage);
        let choice =
            completion
                .choices
                .into_iter()
                .next()
                .ok_or_else(|| Error::MalformedOutput {
                    message: "the completion has no choices".into(),
                })?;
        let message = choice.message.unwrap_or_default();
        let text = message.content.or(message.refusal).unwrap_or_default();
        Ok(ChatResponse {
            text,
            stop_reason: wire::stop_reason(choice.finish_reason.as_deref()),
            usage,
        })
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let config = &self.transport.config;
        let body = CompletionRequest::for_chat(config, &request).streaming(config.stream_usage);
        let response = self.transport.post_chat(&body, true).await?;
        Ok(sse::chat_stream(
            response,
            self.transport.errors.clone(),
            config.stream_idle_timeout,
        ))
    }

    fn model_id(&self) -> String {
        self.transport.config.model.clone()
    }

    /// The window set with [`with_context_window`](OpenAiChatModel::with_context_window), else
    /// the known model's (gpt-4o and gpt-4o-mini 128 000, gpt-4.1 1 047 576, o3 200 000, ...),
    /// else [`DEFAULT_CONTEXT_WINDOW`](link_core::prompt::DEFAULT_CONTEXT_WINDOW).
    fn context_window(&self) -> usize {
        self.context_window
            .unwrap_or_else(|| models::context_window(&self.transport.config.model))
    }

    /// The model's tiktoken encoding (o200k for gpt-4o, gpt-4.1, gpt-5 and the o-series,
    /// cl100k for gpt-4 and gpt-3.5), else the approximation.
    fn token_counter(&self) -> Arc<dyn TokenCounter> {
        models::token_counter(&self.transport.config.model)
    }
}
