//! An in-memory [`ConversationStore`]: for tests, demos and embedding without a database.

use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;

use crate::{Conversation, ConversationId, ConversationStore, Error, Message, Result};

#[derive(Debug)]
struct Entry {
    conversation: Conversation,
    messages: Vec<Message>,
}

/// Conversations kept in process memory; gone when the process ends.
///
/// ```
/// # tokio_test_block(async {
/// use link_core::{Conversation, ConversationStore, MemoryStore, Persona, PersonaKind};
/// let store = MemoryStore::default();
/// let conv = Conversation::new("alice", Persona::new("Ada", PersonaKind::Historical, "x", "Hi"));
/// store.create(&conv, &[]).await.unwrap();
/// assert!(store.get("alice", conv.id).await.unwrap().is_some());
/// assert!(store.get("bob", conv.id).await.unwrap().is_none());
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: RwLock<HashMap<ConversationId, Entry>>,
}

impl MemoryStore {
    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, HashMap<ConversationId, Entry>>> {
        self.entries
            .read()
            .map_err(|_| Error::storage("memory store lock poisoned"))
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, HashMap<ConversationId, Entry>>> {
        self.entries
            .write()
            .map_err(|_| Error::storage("memory store lock poisoned"))
    }
}

fn owned<'a>(entry: Option<&'a Entry>, owner: &str) -> Option<&'a Entry> {
    entry.filter(|e| e.conversation.owner == owner)
}

#[async_trait]
impl ConversationStore for MemoryStore {
    async fn create(&self, conversation: &Conversation, messages: &[Message]) -> Result<()> {
        let mut entries = self.write()?;
        if entries.contains_key(&conversation.id) {
            return Err(Error::storage("conversation id already exists"));
        }
        let entry = Entry {
            conversation: conversation.clone(),
            messages: messages.to_vec(),
        };
        entries.insert(conversation.id, entry);
        Ok(())
    }

    async fn get(&self, owner: &str, id: ConversationId) -> Result<Option<Conversation>> {
        Ok(owned(self.read()?.get(&id), owner).map(|e| e.conversation.clone()))
    }

    async fn list(&self, owner: &str) -> Result<Vec<Conversation>> {
        let entries = self.read()?;
        let mut list: Vec<Conversation> = entries
            .values()
            .filter(|e| e.conversation.owner == owner)
            .map(|e| e.conversation.clone())
            .collect();
        list.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        Ok(list)
    }

    async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool> {
        let mut entries = self.write()?;
        if owned(entries.get(&id), owner).is_none() {
            return Ok(false);
        }
        Ok(entries.remove(&id).is_some())
    }

    async fn append(&self, owner: &str, id: ConversationId, message: &Message) -> Result<()> {
        let mut entries = self.write()?;
        let entry = entries
            .get_mut(&id)
            .filter(|e| e.conversation.owner == owner)
            .ok_or_else(|| Error::not_found("conversation"))?;
        entry.conversation.updated_at = entry.conversation.updated_at.max(message.created_at);
        entry.messages.push(message.clone());
        Ok(())
    }

    async fn messages(
        &self,
        owner: &str,
        id: ConversationId,
        last: Option<usize>,
    ) -> Result<Vec<Message>> {
        let entries = self.read()?;
        let entry =
            owned(entries.get(&id), owner).ok_or_else(|| Error::not_found("conversation"))?;
        let skip = last.map_or(0, |n| entry.messages.len().saturating_sub(n));
        Ok(entry.messages[skip..].to_vec())
    }
}
