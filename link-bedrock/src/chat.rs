//! [`BedrockChatModel`]: Link's [`ChatModel`] on Amazon Bedrock.

use async_trait::async_trait;
use aws_sdk_bedrockruntime::Client;
use futures::StreamExt;
use link_core::{ChatEvent, ChatModel, ChatRequest, ChatResponse, ChatStream, Result, StopReason};

use crate::config::validate_model_id;
use crate::error::from_sdk;
use crate::request::{converse_parts, guardrail_config, guardrail_stream_config};
use crate::response::chat_response;
use crate::stream::chat_stream;
use crate::{Api, DEFAULT_MODEL, Guardrail, invoke};

/// A [`ChatModel`] on Amazon Bedrock: Converse for whole replies, ConverseStream for streamed
/// ones (or InvokeModel with the Nova body, see [`Api`]), behind an optional guardrail.
///
/// With a guardrail, the system prompt (which carries the persona) and every user turn are
/// sent as guard content so that both are assessed, and an intervention comes back as
/// [`StopReason::GuardrailIntervened`] or [`ChatEvent::GuardrailIntervened`], never as an
/// error.
///
/// ```no_run
/// use link_bedrock::{BedrockChatModel, Guardrail};
/// use link_core::{ChatMessage, ChatModel, ChatRequest, GenerationParams};
///
/// # async fn demo() -> link_core::Result<()> {
/// let model = BedrockChatModel::from_env()
///     .await
///     .with_model("us.amazon.nova-micro-v1:0")?
///     .with_guardrail(Guardrail::new("gr-abc123", "1"))?;
/// let reply = model
///     .complete(ChatRequest {
///         system: "You are Sherlock Holmes.".into(),
///         messages: vec![ChatMessage::user("Good evening, Mr Holmes.")],
///         params: GenerationParams::default(),
///     })
///     .await?;
/// assert!(!reply.text.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BedrockChatModel {
    client: Client,
    model_id: String,
    api: Api,
    guardrail: Option<Guardrail>,
    context_window: Option<usize>,
}

impl BedrockChatModel {
    /// A model on `client` (your own, or from [`client_from_env`](crate::client_from_env)),
    /// playing [`DEFAULT_MODEL`] through Converse, without a guardrail.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            model_id: DEFAULT_MODEL.to_owned(),
            api: Api::default(),
            guardrail: None,
            context_window: None,
        }
    }

    /// Says the model's context window is `tokens`, instead of the known models' table (see
    /// [`ChatModel::context_window`]): for a model the table does not know (a provisioned or
    /// imported model's ARN) or to keep prompts smaller than the model could take.
    pub fn with_context_window(mut self, tokens: usize) -> Self {
        self.context_window = Some(tokens);
        self
    }

    /// A model on a client built from the standard AWS chain (region, credentials, retries).
    pub async fn from_env() -> Self {
        Self::new(crate::client_from_env().await)
    }

    /// Uses another model id, inference profile id (`us.amazon.nova-micro-v1:0`) or ARN.
    /// Fails with [`Error::Config`](link_core::Error::Config) for an id that can never work.
    pub fn with_model(mut self, model_id: impl Into<String>) -> Result<Self> {
        let model_id = model_id.into();
        validate_model_id(&model_id)?;
        self.model_id = model_id;
        Ok(self)
    }

    /// Chooses the Bedrock API.
    pub fn with_api(mut self, api: Api) -> Self {
        self.api = api;
        self
    }

    /// Puts every call behind `guardrail`.
    pub fn with_guardrail(mut self, guardrail: Guardrail) -> Result<Self> {
        guardrail.validate()?;
        self.guardrail = Some(guardrail);
        Ok(self)
    }

    /// The guardrail, if any.
    pub fn guardrail(&self) -> Option<&Guardrail> {
        self.guardrail.as_ref()
    }

    /// The API in use.
    pub fn api(&self) -> Api {
        self.api
    }

    async fn converse(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let parts = converse_parts(request, &self.model_id, self.guardrail.is_some())?;
        let output = self
            .client
            .converse()
            .model_id(&self.model_id)
            .set_system((!parts.system.is_empty()).then_some(parts.system))
            .set_messages(Some(parts.messages))
            .set_inference_config(parts.inference)
            .set_additional_model_request_fields(parts.additional)
            .set_guardrail_config(self.guardrail.as_ref().map(guardrail_config))
            .send()
            .await
            .map_err(|e| from_sdk(e, "Converse"))?;
        chat_response(&output)
    }

    async fn converse_stream(&self, request: &ChatRequest) -> Result<ChatStream> {
        let parts = converse_parts(request, &self.model_id, self.guardrail.is_some())?;
        let output = self
            .client
            .converse_stream()
            .model_id(&self.model_id)
            .set_system((!parts.system.is_empty()).then_some(parts.system))
            .set_messages(Some(parts.messages))
            .set_inference_config(parts.inference)
            .set_additional_model_request_fields(parts.additional)
            .set_guardrail_config(self.guardrail.as_ref().map(guardrail_stream_config))
            .send()
            .await
            .map_err(|e| from_sdk(e, "ConverseStream"))?;
        Ok(chat_stream(output.stream))
    }
}

#[async_trait]
impl ChatModel for BedrockChatModel {
    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse> {
        tracing::debug!(model_id = %self.model_id, api = ?self.api, "Bedrock chat");
        match self.api {
            Api::Converse => self.converse(&request).await,
            Api::InvokeModel => {
                invoke::invoke(
                    &self.client,
                    &self.model_id,
                    self.guardrail.as_ref(),
                    &request,
                )
                .await
            }
        }
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        tracing::debug!(model_id = %self.model_id, api = ?self.api, "Bedrock chat stream");
        match self.api {
            Api::Converse => self.converse_stream(&request).await,
            Api::InvokeModel => Ok(whole_as_stream(self.complete(request).await?)),
        }
    }

    fn model_id(&self) -> String {
        self.model_id.clone()
    }

    /// The window set with [`with_context_window`](BedrockChatModel::with_context_window),
    /// else the known model's (Nova Micro 128 000, Nova Lite and Pro 300 000, Claude 200 000,
    /// ...), else [`DEFAULT_CONTEXT_WINDOW`](link_core::prompt::DEFAULT_CONTEXT_WINDOW).
    fn context_window(&self) -> usize {
        self.context_window
            .unwrap_or_else(|| crate::models::context_window(&self.model_id))
    }
}

/// A whole reply as stream events. A guardrail's message is not sent as the character's text.
fn whole_as_stream(reply: ChatResponse) -> ChatStream {
    let mut events = Vec::with_capacity(2);
    if reply.stop_reason == StopReason::GuardrailIntervened {
        let message = (!reply.text.is_empty()).then_some(reply.text);
        events.push(Ok(ChatEvent::GuardrailIntervened { message }));
    } else if !reply.text.is_empty() {
        events.push(Ok(ChatEvent::Delta { text: reply.text }));
    }
    events.push(Ok(ChatEvent::Done {
        stop_reason: reply.stop_reason,
        usage: reply.usage,
    }));
    futures::stream::iter(events).boxed()
}
