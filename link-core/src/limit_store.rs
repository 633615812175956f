//! [`LimitStore`]: a [`ConversationStore`] decorator that runs at most a fixed number of
//! operations at once (as object_store's `LimitStore`), so that a burst of requests queues in
//! the process instead of opening a connection each to a store over the network.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::{
    Avatar, Conversation, ConversationId, ConversationPatch, ConversationStore, ConversationTokens,
    Error, Message, Month, Page, PageRequest, Result, Splice, StoreUsage, TurnState, UserPersona,
};

/// Runs at most `max` operations of the inner store at once; the others wait their turn.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use link_core::{ConversationStore, LimitStore, MemoryStore};
/// let store = LimitStore::new(MemoryStore::default(), 16);
/// assert!(store.get("alice", link_core::ConversationId::new()).await.unwrap().is_none());
/// # });
/// ```
#[derive(Debug)]
pub struct LimitStore<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

impl<S: ConversationStore> LimitStore<S> {
    /// `inner`, running at most `max` operations at once (at least one).
    pub fn new(inner: S, max: usize) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(max.max(1))),
        }
    }

    async fn permit(&self) -> Result<SemaphorePermit<'_>> {
        self.permits
            .acquire()
            .await
            .map_err(|_| Error::storage("the store's operation limit was closed"))
    }
}

#[async_trait]
impl<S: ConversationStore> ConversationStore for LimitStore<S> {
    async fn create(&self, conversation: &Conversation, messages: &[Message]) -> Result<()> {
        let _permit = self.permit().await?;
        self.inner.create(conversation, messages).await
    }

    async fn get(&self, owner: &str, id: ConversationId) -> Result<Option<Conversation>> {
        let _permit = self.permit().await?;
        self.inner.get(owner, id).await
    }

    async fn list(&self, owner: &str, page: &PageRequest) -> Result<Page<Conversation>> {
        let _permit = self.permit().await?;
        self.inner.list(owner, page).await
    }

    async fn update(
        &self,
        owner: &str,
        id: ConversationId,
        patch: &ConversationPatch,
    ) -> Result<Conversation> {
        let _permit = self.permit().await?;
        self.inner.update(owner, id, patch).await
    }

    async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool> {
        let _permit = self.permit().await?;
        self.inner.delete(owner, id).await
    }

    async fn append(&self, owner: &str, id: ConversationId, message: &Message) -> Result<()> {
        let _permit = self.permit().await?;
        self.inner.append(owner, id, message).await
    }

    async fn append_all(
        &self,
        owner: &str,
        id: ConversationId,
        messages: &[Message],
    ) -> Result<()> {
        let _permit = self.permit().await?;
        self.inner.append_all(owner, id, messages).await
    }

    async fn splice(&self, owner: &str, id: ConversationId, splice: &Splice) -> Result<()> {
        let _permit = self.permit().await?;
        self.inner.splice(owner, id, splice).await
    }

    async fn messages(
        &self,
        owner: &str,
        id: ConversationId,
        last: Option<usize>,
    ) -> Result<Vec<Message>> {
        let _permit = self.permit().await?;
        self.inner.messages(owner, id, last).await
    }

    async fn user_persona(&self, owner: &str) -> Result<Option<UserPersona>> {
        let _permit = self.permit().await?;
        self.inner.user_persona(owner).await
    }

    async fn set_user_persona(&self, owner: &str, persona: Option<UserPersona>) -> Result<()> {
        let _permit = self.permit().await?;
        self.inner.set_user_persona(owner, persona).await
    }

    async fn usage(&self, owner: &str, conversation: Option<ConversationId>) -> Result<StoreUsage> {
        let _permit = self.permit().await?;
        self.inner.usage(owner, conversation).await
    }

    async fn token_usage(&self, owner: &str, month: Month) -> Result<Vec<ConversationTokens>> {
        let _permit = self.permit().await?;
        self.inner.token_usage(owner, month).await
    }

    async fn turn_state(
        &self,
        owner: &str,
        id: ConversationId,
        window: usize,
    ) -> Result<TurnState> {
        let _permit = self.permit().await?;
        self.inner.turn_state(owner, id, window).await
    }

    async fn avatar(&self, owner: &str, id: ConversationId) -> Result<Option<Avatar>> {
        let _permit = self.permit().await?;
        self.inner.avatar(owner, id).await
    }

    async fn set_avatar(
        &self,
        owner: &str,
        id: ConversationId,
        avatar: Option<Avatar>,
    ) -> Result<()> {
        let _permit = self.permit().await?;
        self.inner.set_avatar(owner, id, avatar).await
    }

    async fn ping(&self) -> Result<()> {
        let _permit = self.permit().await?;
        self.inner.ping().await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::MemoryStore;

    #[tokio::test]
    async fn an_operation_waits_while_the_limit_is_taken() {
        let store = LimitStore::new(MemoryStore::default(), 1);
        let id = ConversationId::new();
        let held = store.permit().await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(50), store.get("a", id)).await;
        assert!(waiting.is_err(), "the second operation waits for the first");
        drop(held);
        let done = tokio::time::timeout(Duration::from_secs(5), store.get("a", id)).await;
        assert!(matches!(done, Ok(Ok(None))), "then it runs");
    }
}
