//! An in-memory [`ConversationStore`]: for tests, demos and embedding without a database.

use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;

use crate::page::{decode_position, encode_position};
use crate::token_usage::sort_tallies;
use crate::{
    Avatar, Conversation, ConversationId, ConversationPatch, ConversationStore, ConversationTokens,
    Error, Message, Month, Page, PageRequest, Result, Splice, TokenTally, UserPersona,
};

/// Token tallies by owner and month, then by conversation. Kept apart from the conversations:
/// a tally outlives its conversation.
type Tallies = HashMap<(String, Month), HashMap<ConversationId, TokenTally>>;

#[derive(Debug)]
struct Entry {
    conversation: Conversation,
    messages: Vec<Message>,
    avatar: Option<Avatar>,
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
    users: RwLock<HashMap<String, UserPersona>>,
    tallies: RwLock<Tallies>,
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
            avatar: None,
        };
        entries.insert(conversation.id, entry);
        Ok(())
    }

    async fn get(&self, owner: &str, id: ConversationId) -> Result<Option<Conversation>> {
        Ok(owned(self.read()?.get(&id), owner).map(|e| e.conversation.clone()))
    }

    async fn list(&self, owner: &str, page: &PageRequest) -> Result<Page<Conversation>> {
        let after = page
            .after
            .as_ref()
            .map(decode_position::<ConversationId>)
            .transpose()?;
        let entries = self.read()?;
        let mut list: Vec<Conversation> = entries
            .values()
            .map(|e| &e.conversation)
            .filter(|c| c.owner == owner)
            .filter(|c| {
                after.is_none_or(|(t, id)| (c.updated_at.unix_timestamp_nanos(), c.id) < (t, id))
            })
            .cloned()
            .collect();
        list.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        let next = (list.len() > page.limit).then(|| {
            list.truncate(page.limit);
            list.last()
                .map(|c| encode_position(c.updated_at.unix_timestamp_nanos(), c.id))
        });
        Ok(Page {
            items: list,
            next: next.flatten(),
        })
    }

    async fn update(
        &self,
        owner: &str,
        id: ConversationId,
        patch: &ConversationPatch,
    ) -> Result<Conversation> {
        let mut entries = self.write()?;
        let entry = owned_mut(&mut entries, owner, id)?;
        patch.apply(&mut entry.conversation)?;
        Ok(entry.conversation.clone())
    }

    async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool> {
        let mut entries = self.write()?;
        if owned(entries.get(&id), owner).is_none() {
            return Ok(false);
        }
        Ok(entries.remove(&id).is_some())
    }

    async fn avatar(&self, owner: &str, id: ConversationId) -> Result<Option<Avatar>> {
        let entries = self.read()?;
        let entry =
            owned(entries.get(&id), owner).ok_or_else(|| Error::not_found("conversation"))?;
        Ok(entry.avatar.clone())
    }

    async fn set_avatar(
        &self,
        owner: &str,
        id: ConversationId,
        avatar: Option<Avatar>,
    ) -> Result<()> {
        let mut entries = self.write()?;
        owned_mut(&mut entries, owner, id)?.avatar = avatar;
        Ok(())
    }

    async fn splice(&self, owner: &str, id: ConversationId, splice: &Splice) -> Result<()> {
        let mut entries = self.write()?;
        let entry = owned_mut(&mut entries, owner, id)?;
        // Taken before anything changes, so a poisoned lock fails the splice as a whole. The
        // lock order is always entries, then tallies.
        let mut tallies = self
            .tallies
            .write()
            .map_err(|_| Error::storage("memory store lock poisoned"))?;
        splice.apply_to(&mut entry.messages)?;
        if let Some(at) = splice.touched_at() {
            entry.conversation.updated_at = entry.conversation.updated_at.max(at);
        }
        if let Some((month, tally)) = splice.tokens {
            tallies
                .entry((owner.to_owned(), month))
                .or_default()
                .entry(id)
                .or_default()
                .add(tally);
        }
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

    async fn user_persona(&self, owner: &str) -> Result<Option<UserPersona>> {
        let personas = self
            .users
            .read()
            .map_err(|_| Error::storage("memory store lock poisoned"))?;
        Ok(personas.get(owner).cloned())
    }

    async fn set_user_persona(&self, owner: &str, persona: Option<UserPersona>) -> Result<()> {
        let mut personas = self
            .users
            .write()
            .map_err(|_| Error::storage("memory store lock poisoned"))?;
        match persona {
            Some(persona) => personas.insert(owner.to_owned(), persona),
            None => personas.remove(owner),
        };
        Ok(())
    }

    async fn token_usage(&self, owner: &str, month: Month) -> Result<Vec<ConversationTokens>> {
        let tallies = self
            .tallies
            .read()
            .map_err(|_| Error::storage("memory store lock poisoned"))?;
        let mut list: Vec<ConversationTokens> = tallies
            .get(&(owner.to_owned(), month))
            .into_iter()
            .flatten()
            .map(|(&conversation, &tokens)| ConversationTokens {
                conversation,
                tokens,
            })
            .collect();
        sort_tallies(&mut list);
        Ok(list)
    }
}

fn owned_mut<'a>(
    entries: &'a mut HashMap<ConversationId, Entry>,
    owner: &str,
    id: ConversationId,
) -> Result<&'a mut Entry> {
    entries
        .get_mut(&id)
        .filter(|e| e.conversation.owner == owner)
        .ok_or_else(|| Error::not_found("conversation"))
}
