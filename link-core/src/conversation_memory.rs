//! What a character remembers of a long conversation: a rolling summary of the turns that
//! left the prompt's window, and the facts its owner pinned.
//!
//! The summary is written by a model after a reply is stored (see [`Link`](crate::Link)):
//! each new summary folds the previous one with the turns that just left the window, and
//! records the newest message it covers. The owner can read and correct it, and pin a few
//! facts that are always in the prompt. Both are bounded, so they fit any model's window and
//! any store's item.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Error, MessageId, Result};

/// The longest summary kept, in characters: what the summariser writes is cut to it, and an
/// owner's edit longer than it is refused.
pub const MAX_SUMMARY_CHARS: usize = 4000;

/// The most facts an owner can pin to a conversation.
pub const MAX_PINNED_FACTS: usize = 20;

/// The longest pinned fact, in characters.
pub const MAX_PINNED_FACT_CHARS: usize = 200;

/// A conversation's memory.
///
/// ```
/// use link_core::ConversationMemory;
/// let memory = ConversationMemory::default();
/// assert!(memory.is_empty());
/// let pinned = ConversationMemory::validate_pinned(vec!["  The user is called Sam. ".into()]).unwrap();
/// assert_eq!(pinned, ["The user is called Sam."]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationMemory {
    /// What happened in the turns that left the window, as the summariser (or the owner)
    /// wrote it; empty until the first summary.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// The newest message the summary covers; `None` before the first summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covered_through: Option<MessageId>,
    /// Facts the owner pinned: always in the prompt, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pinned: Vec<String>,
    /// Bumped by every change, so a summary written from an older memory does not overwrite
    /// the owner's edit (see [`ConversationPatch::expect_memory_revision`](crate::ConversationPatch::expect_memory_revision)).
    #[serde(default)]
    pub revision: u32,
    /// When it last changed.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

impl ConversationMemory {
    /// Whether it holds nothing and never changed.
    pub fn is_empty(&self) -> bool {
        self.summary.is_empty()
            && self.pinned.is_empty()
            && self.covered_through.is_none()
            && self.revision == 0
    }

    /// Whether there is anything to tell the model.
    pub fn has_content(&self) -> bool {
        !self.summary.trim().is_empty() || !self.pinned.is_empty()
    }

    /// An owner's summary, trimmed, or an invalid request if it is longer than
    /// [`MAX_SUMMARY_CHARS`].
    pub fn validate_summary(summary: &str) -> Result<String> {
        let summary = summary.trim();
        let chars = summary.chars().count();
        if chars > MAX_SUMMARY_CHARS {
            return Err(Error::invalid(format!(
                "the memory is {chars} characters; it holds at most {MAX_SUMMARY_CHARS}"
            )));
        }
        Ok(summary.to_owned())
    }

    /// An owner's pinned facts, each trimmed and the empty ones dropped, or an invalid
    /// request naming the bound they break.
    pub fn validate_pinned(facts: Vec<String>) -> Result<Vec<String>> {
        let facts: Vec<String> = facts
            .iter()
            .map(|f| f.trim())
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        if facts.len() > MAX_PINNED_FACTS {
            return Err(Error::invalid(format!(
                "{} pinned facts; a conversation keeps at most {MAX_PINNED_FACTS}",
                facts.len()
            )));
        }
        if let Some(long) = facts
            .iter()
            .find(|f| f.chars().count() > MAX_PINNED_FACT_CHARS)
        {
            return Err(Error::invalid(format!(
                "a pinned fact is {} characters; each holds at most {MAX_PINNED_FACT_CHARS}",
                long.chars().count()
            )));
        }
        Ok(facts)
    }

    /// `summary` cut to [`MAX_SUMMARY_CHARS`], keeping its end (the newest events), at a
    /// word boundary where there is one.
    pub fn bounded_summary(summary: &str) -> String {
        keep_end(summary.trim(), MAX_SUMMARY_CHARS)
    }
}

/// The last `max_chars` characters of `text`, starting at a word where one starts close by.
pub(crate) fn keep_end(text: &str, max_chars: usize) -> String {
    let chars = text.chars().count();
    if chars <= max_chars {
        return text.to_owned();
    }
    let tail: String = text.chars().skip(chars - max_chars).collect();
    match tail.find(char::is_whitespace) {
        Some(at) if at < 40 => tail[at..].trim_start().to_owned(),
        _ => tail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced_with_clear_errors() {
        let long = "x".repeat(MAX_SUMMARY_CHARS + 1);
        let err = ConversationMemory::validate_summary(&long).unwrap_err();
        assert!(err.to_string().contains("4000"), "{err}");
        let many = vec!["a fact".to_owned(); MAX_PINNED_FACTS + 1];
        assert!(ConversationMemory::validate_pinned(many).is_err());
        let wide = vec!["y".repeat(MAX_PINNED_FACT_CHARS + 1)];
        assert!(ConversationMemory::validate_pinned(wide).is_err());
        let fine = vec![" a ".into(), "".into(), "b".into()];
        assert_eq!(
            ConversationMemory::validate_pinned(fine).unwrap(),
            ["a", "b"]
        );
    }

    #[test]
    fn a_long_summary_keeps_its_end() {
        let text = format!("{} the newest event", "old words ".repeat(1000));
        let cut = ConversationMemory::bounded_summary(&text);
        assert!(cut.chars().count() <= MAX_SUMMARY_CHARS);
        assert!(cut.ends_with("the newest event"));
        assert!(
            cut.starts_with("old") || cut.starts_with("words"),
            "{cut:.20}"
        );
    }
}
