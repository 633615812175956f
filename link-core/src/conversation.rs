//! Conversations and their stored messages, with the versions a message can have (a reply
//! regenerated, a greeting with alternatives) and the edits an owner can make.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    ConversationId, ConversationMemory, Error, Lorebook, MessageId, Persona, Result, Role,
    UserPersona,
};

/// A conversation between one user and one character.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// The owner's subject; only the owner can see it.
    pub owner: String,
    /// The character being played.
    pub persona: Persona,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When a message was last added or changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Where it was forked from, if it is a fork.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<ForkOrigin>,
    /// Who the user is in this conversation, overriding the owner's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_persona: Option<UserPersona>,
    /// What the character remembers of turns that left the prompt's window, and the facts
    /// the owner pinned.
    #[serde(default, skip_serializing_if = "ConversationMemory::is_empty")]
    pub memory: ConversationMemory,
}

/// The conversation and message a fork was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkOrigin {
    /// The conversation forked.
    pub conversation: ConversationId,
    /// The last message the fork copied.
    pub message: MessageId,
}

/// A change to a conversation's own fields (not its messages: see
/// [`Splice`](crate::Splice)). A field left `None` is left as it is.
///
/// ```
/// use link_core::{ConversationPatch, UserPersona};
/// let patch = ConversationPatch::default()
///     .user_persona(Some(UserPersona::new("Watson", "A doctor, back from the war.")));
/// assert!(patch.user_persona.is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ConversationPatch {
    /// The user persona of this conversation: `Some(None)` removes the override.
    pub user_persona: Option<Option<UserPersona>>,
    /// A new memory summary (the owner's edit, or the summariser's).
    pub memory_summary: Option<String>,
    /// The newest message the new summary covers (the summariser's).
    pub memory_covered_through: Option<MessageId>,
    /// New pinned facts.
    pub pinned_facts: Option<Vec<String>>,
    /// Clears the summary and the message it covers (after a rewind removed that message).
    pub forget_summary: bool,
    /// Applies only if the memory's [`revision`](ConversationMemory::revision) is still
    /// this; otherwise the update fails with [`Error::Conflict`] and changes nothing.
    pub expect_memory_revision: Option<u32>,
    /// The persona's lorebook: `Some(None)` removes it.
    pub lorebook: Option<Option<Lorebook>>,
}

impl ConversationPatch {
    /// Sets (or with `None`, removes) the conversation's user persona.
    pub fn user_persona(mut self, persona: Option<UserPersona>) -> Self {
        self.user_persona = Some(persona);
        self
    }

    /// Replaces (or with `None`, removes) the persona's lorebook (checked by the engine).
    pub fn lorebook(mut self, lorebook: Option<Lorebook>) -> Self {
        self.lorebook = Some(lorebook);
        self
    }

    /// Sets the memory summary (checked and bounded by the engine, not here).
    pub fn memory_summary(mut self, summary: impl Into<String>) -> Self {
        self.memory_summary = Some(summary.into());
        self
    }

    /// Sets the pinned facts (checked and bounded by the engine, not here).
    pub fn pinned_facts(mut self, facts: Vec<String>) -> Self {
        self.pinned_facts = Some(facts);
        self
    }

    /// A summary that covers the conversation through `message`, written from the memory at
    /// `revision`: it applies only if nobody changed the memory since.
    pub fn summarised(mut self, summary: String, message: MessageId, revision: u32) -> Self {
        self.memory_summary = Some(summary);
        self.memory_covered_through = Some(message);
        self.expect_memory_revision = Some(revision);
        self
    }

    /// Clears the summary and the message it covers, if the memory is still at `revision`.
    pub fn forget_summary(mut self, revision: u32) -> Self {
        self.forget_summary = true;
        self.expect_memory_revision = Some(revision);
        self
    }

    /// Whether it changes the memory.
    pub fn changes_memory(&self) -> bool {
        self.forget_summary
            || self.memory_summary.is_some()
            || self.memory_covered_through.is_some()
            || self.pinned_facts.is_some()
    }

    /// Applies the patch to `conversation`, or fails with [`Error::Conflict`] (changing
    /// nothing) when it expects another memory revision. Every store applies patches with it,
    /// atomically with the write.
    pub fn apply(&self, conversation: &mut Conversation) -> Result<()> {
        let memory = &mut conversation.memory;
        if let Some(expected) = self.expect_memory_revision
            && expected != memory.revision
        {
            return Err(Error::conflict(
                "the conversation's memory changed since it was read",
            ));
        }
        if let Some(persona) = &self.user_persona {
            conversation.user_persona.clone_from(persona);
        }
        if let Some(lorebook) = &self.lorebook {
            conversation.persona.lorebook.clone_from(lorebook);
        }
        if !self.changes_memory() {
            return Ok(());
        }
        if self.forget_summary {
            memory.summary.clear();
            memory.covered_through = None;
        }
        if let Some(summary) = &self.memory_summary {
            memory.summary.clone_from(summary);
        }
        if let Some(message) = self.memory_covered_through {
            memory.covered_through = Some(message);
        }
        if let Some(facts) = &self.pinned_facts {
            memory.pinned.clone_from(facts);
        }
        memory.revision = memory.revision.wrapping_add(1);
        memory.updated_at = Some(now());
        Ok(())
    }
}

impl Conversation {
    /// A new conversation owned by `owner`, created now.
    pub fn new(owner: impl Into<String>, persona: Persona) -> Self {
        let now = now();
        Self {
            id: ConversationId::new(),
            owner: owner.into(),
            persona,
            created_at: now,
            updated_at: now,
            origin: None,
            user_persona: None,
            memory: ConversationMemory::default(),
        }
    }

    /// A fork of this conversation made now for the same owner: the same persona, user
    /// persona and pinned facts, a new id, and its origin at `message`. Its summary is the
    /// engine's to carry over (it knows which copied message the summary covers).
    pub fn fork_at(&self, message: MessageId) -> Self {
        let mut fork = Conversation::new(self.owner.clone(), self.persona.clone());
        fork.user_persona.clone_from(&self.user_persona);
        fork.memory.pinned.clone_from(&self.memory.pinned);
        fork.origin = Some(ForkOrigin {
            conversation: self.id,
            message,
        });
        fork
    }
}

/// The most versions one message keeps; regenerating past it drops the oldest.
pub const MAX_ALTERNATIVES: usize = 32;

/// A stored message.
///
/// A message can have several versions (SillyTavern's swipes): the replies regenerated for
/// one user message, or a greeting and its alternates. `content` is always the chosen one,
/// which is what the model sees in later prompts.
///
/// ```
/// use link_core::{Message, Role};
/// let mut reply = Message::new(Role::Assistant, "Elementary.");
/// reply.add_alternative("Quite so.");
/// assert_eq!((reply.content.as_str(), reply.chosen, reply.alternative_count()), ("Quite so.", 1, 2));
/// reply.choose(0).unwrap();
/// assert_eq!(reply.content, "Elementary.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// Who wrote it.
    pub role: Role,
    /// Its text: the chosen version.
    pub content: String,
    /// When it was stored.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Every version, oldest first, when there is more than one; empty otherwise. When not
    /// empty, `content == alternatives[chosen]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
    /// The index of the chosen version in `alternatives` (0 when there is one version).
    #[serde(default)]
    pub chosen: usize,
    /// The reply was cut short because the client went away; the user may regenerate it.
    #[serde(default)]
    pub interrupted: bool,
    /// When the owner last edited it.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
    /// How many times it was rewritten in the store (0 when new). A rewrite names the
    /// revision it read and fails with a conflict if another came first (see
    /// [`Splice`](crate::Splice)), so two concurrent edits never lose one silently.
    #[serde(default)]
    pub revision: u32,
}

impl Message {
    /// A new message, stamped now.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            id: MessageId::new(),
            role,
            content: content.into(),
            created_at: now(),
            alternatives: Vec::new(),
            chosen: 0,
            interrupted: false,
            edited_at: None,
            revision: 0,
        }
    }

    /// A new message with several versions, the first chosen (a greeting and its alternates).
    /// With one version it is [`Message::new`].
    pub fn with_versions(role: Role, versions: Vec<String>) -> Self {
        let mut message = Message::new(role, versions.first().cloned().unwrap_or_default());
        if versions.len() > 1 {
            message.alternatives = versions;
        }
        message
    }

    /// How many versions it has (at least one).
    pub fn alternative_count(&self) -> usize {
        self.alternatives.len().max(1)
    }

    /// Adds a version and chooses it; past [`MAX_ALTERNATIVES`] the oldest is dropped.
    pub fn add_alternative(&mut self, text: impl Into<String>) {
        if self.alternatives.is_empty() {
            self.alternatives.push(self.content.clone());
        }
        if self.alternatives.len() >= MAX_ALTERNATIVES {
            self.alternatives.remove(0);
        }
        self.content = text.into();
        self.alternatives.push(self.content.clone());
        self.chosen = self.alternatives.len() - 1;
        self.interrupted = false;
    }

    /// Chooses the version at `index`; an index out of range is an invalid request.
    pub fn choose(&mut self, index: usize) -> Result<()> {
        if index >= self.alternative_count() {
            return Err(Error::invalid(format!(
                "the message has {} versions; there is none at index {index}",
                self.alternative_count()
            )));
        }
        if let Some(text) = self.alternatives.get(index) {
            self.content.clone_from(text);
        }
        self.chosen = index;
        Ok(())
    }

    /// Replaces the chosen version's text, stamped as edited now.
    pub fn edit(&mut self, text: impl Into<String>) {
        self.content = text.into();
        if let Some(version) = self.alternatives.get_mut(self.chosen) {
            version.clone_from(&self.content);
        }
        self.interrupted = false;
        self.edited_at = Some(now());
    }

    /// A copy with a new id, for a fork: the same text, versions, and times.
    pub fn copied(&self) -> Self {
        Self {
            id: MessageId::new(),
            revision: 0,
            ..self.clone()
        }
    }

    /// The message as the store holds it after a splice replaced it (its next revision).
    pub fn stored_revision(mut self) -> Self {
        self.revision = self.revision.wrapping_add(1);
        self
    }
}

/// The current time in UTC, truncated to microseconds so it survives a database round trip.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}
