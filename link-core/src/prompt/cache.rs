//! System prompts rendered before. A conversation's persona does not change from turn to
//! turn, so its system prompt (the rules and the persona serialised as data) is rendered once
//! and reused until the persona is edited. The key is the persona as the model sees it, so an
//! edit is simply another key (nothing to invalidate), and conversations that share a persona
//! share the entry. A hit is checked against the whole persona, never the hash alone.
//!
//! Bounded: past [`CAPACITY`] entries the cache starts over (a few megabytes at most).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use super::PromptStyle;
use crate::Persona;

/// At most this many prompts are kept.
const CAPACITY: usize = 256;

/// Rendered system prompts by style and persona.
#[derive(Debug, Default)]
pub(crate) struct PromptCache(Mutex<HashMap<u64, Entry>>);

#[derive(Debug)]
struct Entry {
    style: PromptStyle,
    /// The fields the prompt was rendered from (no card data, no lorebook).
    persona: Persona,
    prompt: Arc<str>,
}

impl PromptCache {
    /// `persona`'s system prompt in `style`: the one kept, or `render()` (then kept).
    pub(crate) fn get_or_render(
        &self,
        style: PromptStyle,
        persona: &Persona,
        render: impl FnOnce() -> String,
    ) -> Arc<str> {
        let mut hasher = DefaultHasher::new();
        (style, persona.model_view()).hash(&mut hasher);
        let key = hasher.finish();
        let kept = self.0.lock().ok().and_then(|entries| {
            let entry = entries.get(&key)?;
            let same = entry.style == style && entry.persona.model_view() == persona.model_view();
            same.then(|| Arc::clone(&entry.prompt))
        });
        if let Some(prompt) = kept {
            return prompt;
        }
        let prompt: Arc<str> = render().into();
        if let Ok(mut entries) = self.0.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            let persona = persona.model_copy();
            let prompt = Arc::clone(&prompt);
            entries.insert(
                key,
                Entry {
                    style,
                    persona,
                    prompt,
                },
            );
        }
        prompt
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::cell::Cell;

    use super::*;
    use crate::PersonaKind;

    fn ada() -> Persona {
        Persona::new(
            "Ada",
            PersonaKind::Historical,
            "A mathematician.",
            "Good day!",
        )
    }

    #[test]
    fn a_persona_is_rendered_once_until_it_is_edited() {
        let cache = PromptCache::default();
        let renders = Cell::new(0);
        let render = |p: &Persona| {
            renders.set(renders.get() + 1);
            format!("prompt of {}", p.description)
        };
        let persona = ada();
        let first = cache.get_or_render(PromptStyle::Full, &persona, || render(&persona));
        let again = cache.get_or_render(PromptStyle::Full, &persona, || render(&persona));
        assert_eq!(
            (&*first, &*again),
            ("prompt of A mathematician.", "prompt of A mathematician.")
        );
        assert_eq!(renders.get(), 1);

        let mut edited = ada();
        edited.description = "A mathematician and writer.".into();
        let third = cache.get_or_render(PromptStyle::Full, &edited, || render(&edited));
        assert_eq!(&*third, "prompt of A mathematician and writer.");
        cache.get_or_render(PromptStyle::Compact, &edited, || render(&edited));
        assert_eq!(
            renders.get(),
            3,
            "an edit and another style are other prompts"
        );
    }

    #[test]
    fn card_data_the_model_never_sees_does_not_matter() {
        let cache = PromptCache::default();
        let renders = Cell::new(0);
        let mut persona = ada();
        for note in ["one", "two"] {
            persona.card_extensions.insert("note".into(), note.into());
            cache.get_or_render(PromptStyle::Full, &persona, || {
                renders.set(renders.get() + 1);
                String::new()
            });
        }
        assert_eq!(renders.get(), 1);
    }
}
