//! [`InstrumentedStore`]: a [`ConversationStore`] whose every operation is timed and traced.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use link_core::{
    Avatar, Conversation, ConversationId, ConversationPatch, ConversationStore, ConversationTokens,
    Message, Month, Page, PageRequest, Result, Splice, StoreUsage, TurnState, UserPersona,
};
use tracing::Instrument;

use crate::Metrics;
use crate::labels::StoreLabels;
use crate::spans;

/// Wraps a [`ConversationStore`]: each operation gets a span (`{operation} link.store`) and
/// is timed into `link_store_operation_duration_seconds` by operation and outcome.
///
/// Every method of the port is forwarded to the inner store, also those with a default body
/// (a store may answer `usage` with one query where the default reads everything). A
/// method added to the port is forwarded the same way, in one line:
/// `self.observe("name", self.inner.name(..)).await`.
///
/// ```
/// use std::sync::Arc;
/// use link_core::{ConversationStore, MemoryStore, PageRequest};
/// use link_telemetry::{InstrumentedStore, Metrics, PriceTable};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let metrics = Arc::new(Metrics::new(PriceTable::default()));
/// let store = InstrumentedStore::new(MemoryStore::default(), "memory", metrics.clone());
/// let page = store.list("alice", &PageRequest::default()).await?;
/// assert!(page.items.is_empty());
/// assert!(metrics.render().contains(
///     r#"link_store_operation_duration_seconds_count{store="memory",operation="list",outcome="ok"} 1"#
/// ));
/// # Ok::<(), link_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct InstrumentedStore<S> {
    inner: S,
    store: &'static str,
    metrics: Arc<Metrics>,
}

impl<S: ConversationStore> InstrumentedStore<S> {
    /// Wraps `inner`; `store` names it in the metrics and spans (`sqlite`, `memory`,
    /// `dynamodb`: a fixed name, it is a label).
    pub fn new(inner: S, store: &'static str, metrics: Arc<Metrics>) -> Self {
        Self {
            inner,
            store,
            metrics,
        }
    }

    /// Runs one operation of the inner store inside its span, and times it.
    async fn observe<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let span = spans::store_span(self.store, operation);
        let started = Instant::now();
        let result = call.instrument(span.clone()).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(error) => {
                spans::record_error(&span, error);
                error.code()
            }
        };
        let labels = StoreLabels {
            store: self.store,
            operation,
            outcome,
        };
        let histogram = self.metrics.store_duration.get_or_create(&labels);
        histogram.observe(started.elapsed().as_secs_f64());
        result
    }
}

#[async_trait]
impl<S: ConversationStore> ConversationStore for InstrumentedStore<S> {
    async fn create(&self, conversation: &Conversation, messages: &[Message]) -> Result<()> {
        self.observe("create", self.inner.create(conversation, messages))
            .await
    }

    async fn get(&self, owner: &str, id: ConversationId) -> Result<Option<Conversation>> {
        self.observe("get", self.inner.get(owner, id)).await
    }

    async fn list(&self, owner: &str, page: &PageRequest) -> Result<Page<Conversation>> {
        self.observe("list", self.inner.list(owner, page)).await
    }

    async fn update(
        &self,
        owner: &str,
        id: ConversationId,
        patch: &ConversationPatch,
    ) -> Result<Conversation> {
        self.observe("update", self.inner.update(owner, id, patch))
            .await
    }

    async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool> {
        self.observe("delete", self.inner.delete(owner, id)).await
    }

    async fn append(&self, owner: &str, id: ConversationId, message: &Message) -> Result<()> {
        self.observe("append", self.inner.append(owner, id, message))
            .await
    }

    async fn append_all(
        &self,
        owner: &str,
        id: ConversationId,
        messages: &[Message],
    ) -> Result<()> {
        self.observe("append_all", self.inner.append_all(owner, id, messages))
            .await
    }

    async fn splice(&self, owner: &str, id: ConversationId, splice: &Splice) -> Result<()> {
        self.observe("splice", self.inner.splice(owner, id, splice))
            .await
    }

    async fn messages(
        &self,
        owner: &str,
        id: ConversationId,
        last: Option<usize>,
    ) -> Result<Vec<Message>> {
        self.observe("messages", self.inner.messages(owner, id, last))
            .await
    }

    async fn user_persona(&self, owner: &str) -> Result<Option<UserPersona>> {
        self.observe("user_persona", self.inner.user_persona(owner))
            .await
    }

    async fn set_user_persona(&self, owner: &str, persona: Option<UserPersona>) -> Result<()> {
        self.observe(
            "set_user_persona",
            self.inner.set_user_persona(owner, persona),
        )
        .await
    }

    async fn usage(&self, owner: &str, conversation: Option<ConversationId>) -> Result<StoreUsage> {
        self.observe("usage", self.inner.usage(owner, conversation))
            .await
    }

    async fn token_usage(&self, owner: &str, month: Month) -> Result<Vec<ConversationTokens>> {
        self.observe("token_usage", self.inner.token_usage(owner, month))
            .await
    }

    async fn turn_state(
        &self,
        owner: &str,
        id: ConversationId,
        window: usize,
    ) -> Result<TurnState> {
        self.observe("turn_state", self.inner.turn_state(owner, id, window))
            .await
    }

    async fn avatar(&self, owner: &str, id: ConversationId) -> Result<Option<Avatar>> {
        self.observe("avatar", self.inner.avatar(owner, id)).await
    }

    async fn set_avatar(
        &self,
        owner: &str,
        id: ConversationId,
        avatar: Option<Avatar>,
    ) -> Result<()> {
        self.observe("set_avatar", self.inner.set_avatar(owner, id, avatar))
            .await
    }

    async fn ping(&self) -> Result<()> {
        self.observe("ping", self.inner.ping()).await
    }
}
