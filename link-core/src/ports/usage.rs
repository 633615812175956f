//! What one owner keeps in a [`ConversationStore`]: the numbers the engine checks its storage
//! caps against, and how any store can count them from its other methods.

use super::ConversationStore;
use crate::page::MAX_PAGE_SIZE;
use crate::{ConversationId, Error, Message, PageRequest, Result};

/// How much of a store one owner uses (see [`ConversationStore::usage`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreUsage {
    /// How many conversations the owner has.
    pub conversations: usize,
    /// The stored text of all the owner's messages, in bytes: the sum of
    /// [`StoreUsage::message_bytes`] over every message of every conversation of theirs.
    pub bytes: u64,
    /// How many messages the conversation that was asked about holds (0 when none was).
    pub messages: usize,
}

impl StoreUsage {
    /// The bytes one message counts for: the UTF-8 length of each of its versions (of its
    /// content when it has only one). Ids, times and personas are not counted: they are
    /// bounded per message and per conversation, which the other caps bound.
    pub fn message_bytes(message: &Message) -> u64 {
        let bytes = match message.alternatives.is_empty() {
            true => message.content.len(),
            false => message.alternatives.iter().map(String::len).sum(),
        };
        u64::try_from(bytes).unwrap_or(u64::MAX)
    }

    /// The bytes `messages` count for together.
    pub fn bytes_of(messages: &[Message]) -> u64 {
        messages
            .iter()
            .map(Self::message_bytes)
            .fold(0, u64::saturating_add)
    }
}

/// The default of [`ConversationStore::usage`]: every page of the owner's conversations and
/// every message of each. Correct on any store, but it reads everything the owner has.
pub(super) async fn scan<S: ConversationStore + ?Sized>(
    store: &S,
    owner: &str,
    conversation: Option<ConversationId>,
) -> Result<StoreUsage> {
    let mut usage = StoreUsage::default();
    let mut counted = false;
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let listed = store.list(owner, &page).await?;
        for item in &listed.items {
            let messages = match store.messages(owner, item.id, None).await {
                Ok(messages) => messages,
                // Deleted since the page was read: it no longer counts.
                Err(Error::NotFound { .. }) => continue,
                Err(error) => return Err(error),
            };
            usage.conversations += 1;
            usage.bytes = usage.bytes.saturating_add(StoreUsage::bytes_of(&messages));
            if conversation == Some(item.id) {
                usage.messages = messages.len();
                counted = true;
            }
        }
        match listed.next {
            Some(next) => page = page.after(Some(next)),
            None => break,
        }
    }
    if let Some(id) = conversation.filter(|_| !counted) {
        // Not listed: another owner's or missing (not found), or created meanwhile.
        usage.messages = store.messages(owner, id, None).await?.len();
    }
    Ok(usage)
}
