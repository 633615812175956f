//! [`Telemetry`]: what the decorators share, and the one call that wraps each port.

use std::sync::Arc;

use link_core::{
    Authenticator, ChatModel, ContentPolicy, ConversationStore, PersonaExtractor, RateLimiter,
};

use crate::{
    InstrumentedAuthenticator, InstrumentedChatModel, InstrumentedExtractor, InstrumentedLimiter,
    InstrumentedStore, Metrics,
};

/// The metrics registry and the audit content policy (which decides whether prompt and
/// reply text may go into spans), with a method per port that wraps an implementation in
/// its decorator. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Telemetry {
    metrics: Arc<Metrics>,
    content: ContentPolicy,
}

impl Telemetry {
    /// Records into `metrics`; text goes into spans only when `content` is
    /// [`ContentPolicy::Full`].
    pub fn new(metrics: Arc<Metrics>, content: ContentPolicy) -> Self {
        Self { metrics, content }
    }

    /// The registry, for a `/metrics` route.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// `model` in an [`InstrumentedChatModel`] (`provider`: `openai`, `bedrock`, `local`).
    pub fn chat_model(
        &self,
        provider: &'static str,
        model: Arc<dyn ChatModel>,
    ) -> Arc<dyn ChatModel> {
        let metrics = self.metrics.clone();
        Arc::new(InstrumentedChatModel::new(
            model,
            provider,
            metrics,
            self.content,
        ))
    }

    /// `extractor` in an [`InstrumentedExtractor`].
    pub fn extractor(
        &self,
        provider: &'static str,
        extractor: Arc<dyn PersonaExtractor>,
    ) -> Arc<dyn PersonaExtractor> {
        let metrics = self.metrics.clone();
        Arc::new(InstrumentedExtractor::new(
            extractor,
            provider,
            metrics,
            self.content,
        ))
    }

    /// `store` in an [`InstrumentedStore`] (`name`: `sqlite`, `memory`, `dynamodb`).
    pub fn store(
        &self,
        name: &'static str,
        store: Arc<dyn ConversationStore>,
    ) -> Arc<dyn ConversationStore> {
        Arc::new(InstrumentedStore::new(store, name, self.metrics.clone()))
    }

    /// `limiter` in an [`InstrumentedLimiter`] (`scope`: `user`, `ip`).
    pub fn rate_limiter(
        &self,
        scope: &'static str,
        limiter: Arc<dyn RateLimiter>,
    ) -> Arc<dyn RateLimiter> {
        Arc::new(InstrumentedLimiter::new(limiter, scope, &self.metrics))
    }

    /// `authenticator` in an [`InstrumentedAuthenticator`].
    pub fn authenticator(&self, authenticator: Arc<dyn Authenticator>) -> Arc<dyn Authenticator> {
        Arc::new(InstrumentedAuthenticator::new(
            authenticator,
            self.metrics.clone(),
        ))
    }
}
