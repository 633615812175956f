//! [`InstrumentedExtractor`]: a [`PersonaExtractor`] that records every extraction.

use std::sync::Arc;

use async_trait::async_trait;
use link_core::{ContentPolicy, Persona, PersonaExtractor, Result};
use tracing::Instrument;

use crate::Metrics;
use crate::call::Call;
use crate::content::Transcript;
use crate::instruments::ModelInstruments;
use crate::spans;

/// Wraps a [`PersonaExtractor`]: each extraction is counted by outcome (operation
/// `extract_persona`), timed, held in the in-flight gauge and given a `chat {model}` span
/// whose `gen_ai.output.type` is `json`. The port reports no token usage, so extractions add
/// no tokens or cost.
#[derive(Debug)]
pub struct InstrumentedExtractor<E> {
    inner: E,
    instruments: Arc<ModelInstruments>,
    content: ContentPolicy,
}

impl<E: PersonaExtractor> InstrumentedExtractor<E> {
    /// Wraps `inner`, whose provider is `provider` (a fixed name: it is a label). Request and
    /// persona text go into the spans only when `content` is [`ContentPolicy::Full`].
    pub fn new(
        inner: E,
        provider: &'static str,
        metrics: Arc<Metrics>,
        content: ContentPolicy,
    ) -> Self {
        let model = inner.model_id();
        let instruments = ModelInstruments::new(metrics, "extract_persona", provider, model);
        Self {
            inner,
            instruments: Arc::new(instruments),
            content,
        }
    }
}

#[async_trait]
impl<E: PersonaExtractor> PersonaExtractor for InstrumentedExtractor<E> {
    async fn extract(&self, request: &str) -> Result<Persona> {
        let span = spans::model_span(&self.instruments, "json", None);
        let mut call = Call::start(self.instruments.clone(), span.clone());
        let transcript = Transcript::of_extraction(self.content, request, &span);
        let result = self.inner.extract(request).instrument(span).await;
        match &result {
            Ok(_) => call.succeed(),
            Err(error) => call.fail(error),
        }
        if let Some(mut transcript) = transcript {
            if let Ok(persona) = &result {
                transcript.push(&serde_json::to_string(persona).unwrap_or_default());
            }
            // The port says nothing of why the model stopped.
            transcript.emit(&call.span, None);
        }
        result
    }

    fn model_id(&self) -> String {
        self.inner.model_id()
    }
}
