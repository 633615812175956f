//! [`InstrumentedChatModel`]: a [`ChatModel`] that records every call.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use link_core::{ChatModel, ChatRequest, ChatResponse, ChatStream, ContentPolicy, Result};
use tracing::Instrument;

use crate::Metrics;
use crate::call::Call;
use crate::content::Transcript;
use crate::instruments::ModelInstruments;
use crate::spans;
use crate::stream::ObservedStream;

/// Wraps a [`ChatModel`]: each call is counted by outcome, timed, held in the in-flight gauge
/// and given a `chat {model}` span with the GenAI attributes; a streamed reply also gives its
/// time to first token and the gaps between its chunks; reported tokens are counted (and
/// priced), and guardrail interventions counted by kind. The reply passes through unchanged.
///
/// ```
/// use std::sync::Arc;
/// use link_core::{ChatModel, ContentPolicy};
/// use link_core::testing::{ScriptedChatModel, conformance};
/// use link_telemetry::{InstrumentedChatModel, Metrics, PriceTable};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let metrics = Arc::new(Metrics::new(PriceTable::default()));
/// let model = InstrumentedChatModel::new(
///     ScriptedChatModel::replying(["Ahoy!"]),
///     "openai",
///     metrics.clone(),
///     ContentPolicy::None,
/// );
/// model.complete(conformance::chat::sample_request()).await?;
/// assert!(metrics.render().contains(r#"outcome="ok"} 1"#));
/// # Ok::<(), link_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct InstrumentedChatModel<M> {
    inner: M,
    instruments: Arc<ModelInstruments>,
    content: ContentPolicy,
}

impl<M: ChatModel> InstrumentedChatModel<M> {
    /// Wraps `inner`, whose provider is `provider` (`openai`, `bedrock`, `local`: a label, so
    /// a fixed name). The model label is `inner`'s model id. Prompt and reply text go into
    /// the spans only when `content` is [`ContentPolicy::Full`].
    pub fn new(
        inner: M,
        provider: &'static str,
        metrics: Arc<Metrics>,
        content: ContentPolicy,
    ) -> Self {
        let model = inner.model_id();
        let instruments = ModelInstruments::new(metrics, "chat", provider, model);
        Self {
            inner,
            instruments: Arc::new(instruments),
            content,
        }
    }

    fn call(&self, request: &ChatRequest) -> Call {
        let span = spans::model_span(&self.instruments, "text", Some(&request.params));
        Call::start(self.instruments.clone(), span)
    }
}

#[async_trait]
impl<M: ChatModel> ChatModel for InstrumentedChatModel<M> {
    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse> {
        let mut call = self.call(&request);
        let transcript = Transcript::of_chat(self.content, &request, &call.span);
        let span = call.span.clone();
        let result = self.inner.complete(request).instrument(span).await;
        match &result {
            Ok(reply) => call.finish(&reply.stop_reason, reply.usage.as_ref()),
            Err(error) => call.fail(error),
        }
        if let Some(mut transcript) = transcript {
            let reason = result.as_ref().ok().map(|reply| {
                transcript.push(&reply.text);
                reply.stop_reason.as_str()
            });
            transcript.emit(&call.span, reason);
        }
        result
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let mut call = self.call(&request);
        let transcript = Transcript::of_chat(self.content, &request, &call.span);
        let span = call.span.clone();
        match self.inner.stream(request).instrument(span).await {
            Ok(stream) => Ok(ObservedStream::new(stream, call, transcript).boxed()),
            Err(error) => {
                call.fail(&error);
                if let Some(transcript) = transcript {
                    transcript.emit(&call.span, None);
                }
                Err(error)
            }
        }
    }

    fn model_id(&self) -> String {
        self.inner.model_id()
    }

    fn prompt_style(&self) -> link_core::prompt::PromptStyle {
        self.inner.prompt_style()
    }

    fn context_window(&self) -> usize {
        self.inner.context_window()
    }

    fn token_counter(&self) -> std::sync::Arc<dyn link_core::TokenCounter> {
        self.inner.token_counter()
    }
}
