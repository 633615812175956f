//! From settings to a running engine: models, store, rate limiter and audit sink.

use std::sync::Arc;
use std::time::Duration;

use link_auth::{GovernorRateLimiter, RateLimitConfig};
use link_core::{
    ContentPolicy, ConversationStore, EngineLimits, Link, RateLimiter, Result, TracingAuditSink,
};

use crate::{Config, Models, Secrets};

impl Config {
    /// Builds the engine these settings describe: the named providers and moderator (see
    /// [`moderation`](Self::moderation)), the conversation store (see
    /// [`store`](Self::store)), the per-user rate limiter (see
    /// [`rate_limiter`](Self::rate_limiter)) and the audit sink (`AUDIT_LOG` lines through
    /// `tracing`).
    ///
    /// ```no_run
    /// # async fn demo() -> link::Result<()> {
    /// let engine = link::Config::from_env()?.build(&link::Secrets::from_env()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn build(&self, secrets: &Secrets) -> Result<Link> {
        let models = Models::build(self, secrets).await?;
        self.build_with(models).await
    }

    /// Like [`build`](Self::build), with models made elsewhere (a test double, a provider
    /// configured in code).
    pub async fn build_with(&self, models: Models) -> Result<Link> {
        let (store, keys) = self.stores().await?;
        let link = self.build_parts(models, store, self.rate_limiter().await?)?;
        Ok(link.with_api_keys(keys))
    }

    /// Like [`build_with`](Self::build_with), with the store and per-user limiter made
    /// elsewhere too (wrapped in a decorator, say): the audit sink, limits and how the
    /// moderator is used still come from these settings.
    pub fn build_parts(
        &self,
        models: Models,
        store: Arc<dyn ConversationStore>,
        limiter: Arc<dyn RateLimiter>,
    ) -> Result<Link> {
        let mut builder = Link::builder();
        if let Some(summariser) = models.summariser {
            builder = builder.summariser(summariser);
        }
        if let Some(moderator) = models.moderator {
            builder = builder
                .moderator(moderator)
                .model_moderates_turns(self.chat_moderates_turns());
        }
        builder
            .extractor(models.extractor)
            .chat_model(models.chat)
            .store(store)
            .rate_limiter(limiter)
            .audit(Arc::new(TracingAuditSink::new(ContentPolicy::from(
                self.audit_content,
            ))))
            .limits(EngineLimits {
                history_window: self.history_window,
                max_conversations_per_user: self.max_conversations_per_user,
                max_messages_per_conversation: self.max_messages_per_conversation,
                max_stored_bytes_per_user: self.max_stored_bytes_per_user,
                ..EngineLimits::default()
            })
            .build()
    }
}

/// A GCRA limiter allowing `requests` a minute, with a burst of as many.
pub fn per_minute(requests: u32) -> Result<GovernorRateLimiter> {
    Ok(GovernorRateLimiter::new(RateLimitConfig {
        requests,
        burst: requests,
        period: Duration::from_secs(60),
        ..RateLimitConfig::default()
    })?)
}
