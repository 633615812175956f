//! `/memory`: what the character remembers of earlier turns (the summary a model keeps as
//! turns leave its window), and the facts the user pins, always in the character's mind.

use link::{Error, Result};
use link_wire::UpdateConversation;

use super::Session;
use crate::out;
use crate::show;
use crate::slash::Memory;

impl Session<'_> {
    /// `/memory`: shows, edits or clears the summary, or pins and unpins a fact; then shows
    /// the memory as stored.
    pub(super) async fn memory(&mut self, memory: Memory) -> Result<()> {
        let current = self.current()?.clone();
        let stored = self.backend.get(&current.id).await?.memory;
        let change = match memory {
            Memory::Show => None,
            Memory::Edit(text) => Some(summary(text)),
            Memory::Clear => Some(summary(String::new())),
            Memory::Pin(fact) => Some(pinned(stored.pinned_facts.clone(), Some(fact), None)?),
            Memory::Unpin(n) => Some(pinned(stored.pinned_facts.clone(), None, Some(n))?),
        };
        let shown = match change {
            None => stored,
            Some(change) => self.backend.update(&current.id, change).await?.memory,
        };
        out::line(&show::memory(self.style, &current.persona.name, &shown));
        Ok(())
    }
}

fn summary(text: String) -> UpdateConversation {
    UpdateConversation {
        memory: Some(text),
        ..UpdateConversation::default()
    }
}

/// The pinned facts with `add` pinned or fact `remove` (from 1) unpinned.
fn pinned(
    mut facts: Vec<String>,
    add: Option<String>,
    remove: Option<usize>,
) -> Result<UpdateConversation> {
    if let Some(n) = remove {
        if n == 0 || n > facts.len() {
            return Err(Error::invalid(format!(
                "there are {} pinned facts: /memory unpin 1 to {}",
                facts.len(),
                facts.len()
            )));
        }
        facts.remove(n - 1);
    }
    facts.extend(add);
    Ok(UpdateConversation {
        pinned_facts: Some(facts),
        ..UpdateConversation::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_appends_and_unpin_counts_from_one() {
        let facts = vec!["a".to_owned(), "b".to_owned()];
        let added = pinned(facts.clone(), Some("c".into()), None).unwrap();
        assert_eq!(added.pinned_facts.unwrap(), ["a", "b", "c"]);
        let removed = pinned(facts.clone(), None, Some(1)).unwrap();
        assert_eq!(removed.pinned_facts.unwrap(), ["b"]);
        assert!(pinned(facts, None, Some(3)).is_err());
    }
}
