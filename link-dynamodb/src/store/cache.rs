//! The conversation items this store read or wrote last, so that a write can go straight to
//! its one conditional transaction: the item's version is the condition, so a stale entry
//! only costs the read the write would have made anyway (it loses the race and reads again).

use std::collections::HashMap;
use std::sync::Mutex;

use link_core::{Conversation, ConversationId};

use crate::codec::Counters;

/// At most this many conversations are remembered; past it the cache starts over.
const CAPACITY: usize = 4096;

type Key = (String, ConversationId);

/// Conversation items as last read or written by this store, per owner and id.
#[derive(Debug, Default)]
pub(crate) struct ReadCache(Mutex<HashMap<Key, (Conversation, Counters)>>);

impl ReadCache {
    /// Remembers the item of `owner`'s conversation as read or written.
    pub(crate) fn put(&self, owner: &str, conversation: &Conversation, counters: &Counters) {
        let Ok(mut map) = self.0.lock() else { return };
        if map.len() >= CAPACITY {
            map.clear();
        }
        let entry = (conversation.clone(), *counters);
        map.insert((owner.to_owned(), conversation.id), entry);
    }

    /// Takes the remembered item out (a write uses it once; after the write it is put back).
    pub(crate) fn take(&self, owner: &str, id: ConversationId) -> Option<(Conversation, Counters)> {
        self.0.lock().ok()?.remove(&(owner.to_owned(), id))
    }
}
