//! Moderation: a [`Moderator`] says whether a text may be shown or used, before the engine
//! stores or returns it.
//!
//! The engine asks it about what the user sends (before any model call), the model's replies
//! (before they are stored or returned; streamed replies segment by segment), and personas
//! with their greetings (before a conversation is created or an extracted persona returned).
//! A blocked text becomes [`Error::ContentBlocked`](crate::Error::ContentBlocked), which
//! carries the verdict's categories and never the text. Adapters: OpenAI's moderation
//! endpoint (link-openai), Bedrock's ApplyGuardrail (link-bedrock).

use std::fmt::Debug;

use async_trait::async_trait;

use crate::{Persona, Result};

/// Where a text that is checked comes from: moderation services judge a user's words and a
/// model's words differently (Bedrock guardrails have an `INPUT` and an `OUTPUT` source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextSource {
    /// What a user sent: a message, an edit, a persona or character card they gave.
    Input,
    /// What a model wrote: a reply, an extracted persona, a greeting.
    Output,
}

impl TextSource {
    /// The lower-case name, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            TextSource::Input => "input",
            TextSource::Output => "output",
        }
    }
}

/// What a [`Moderator`] decided about a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The text may be used.
    Allowed,
    /// The text must not be shown, stored or sent to a model.
    Blocked {
        /// Why, as the moderation service names it (`"harassment"`, `"violence"`,
        /// a guardrail policy name, ...). Safe to log, audit and show: never the text itself.
        categories: Vec<String>,
    },
}

impl Verdict {
    /// A block for these categories.
    pub fn blocked<S: Into<String>>(categories: impl IntoIterator<Item = S>) -> Self {
        Verdict::Blocked {
            categories: categories.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the text is blocked.
    pub fn is_blocked(&self) -> bool {
        matches!(self, Verdict::Blocked { .. })
    }
}

/// Checks a text before the engine uses it.
///
/// A failing check (the service is down) fails the action: the engine does not let through
/// what it could not check.
#[cfg_attr(feature = "test-util", mockall::automock)]
#[async_trait]
pub trait Moderator: Send + Sync + Debug + 'static {
    /// Whether `text`, coming from `source`, may be used.
    async fn check(&self, text: &str, source: TextSource) -> Result<Verdict>;
}

/// A [`Moderator`] that allows everything: what an engine without a moderator does.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoModeration;

#[async_trait]
impl Moderator for NoModeration {
    async fn check(&self, _text: &str, _source: TextSource) -> Result<Verdict> {
        Ok(Verdict::Allowed)
    }
}

/// Every field of `persona` that reaches a prompt or the user, labelled, as one text: what is
/// moderated of a persona (its greeting included), so that each field is assessed.
pub fn persona_text(persona: &Persona) -> String {
    let mut text = String::new();
    let mut add = |label: &str, value: &str| {
        if !value.trim().is_empty() {
            text.push_str(label);
            text.push_str(": ");
            text.push_str(value);
            text.push('\n');
        }
    };
    add("Name", &persona.name);
    add("Description", &persona.description);
    add("Personality", &persona.personality);
    add("Speaking style", &persona.speaking_style);
    add("Setting", &persona.setting);
    add("Knowledge", &persona.knowledge);
    add("Must not know", &persona.must_not_know);
    add("Greeting", &persona.greeting);
    for line in &persona.example_lines {
        add("Example line", line);
    }
    add(
        "Safety notes",
        persona.safety_notes.as_deref().unwrap_or_default(),
    );
    let lore = persona.lorebook.iter().flat_map(|book| &book.entries);
    for entry in lore.filter(|e| e.enabled) {
        add("Lore", &entry.content);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PersonaKind;

    #[test]
    fn every_field_is_in_the_persona_text() {
        let mut persona =
            Persona::new("Ada", PersonaKind::Historical, "A mathematician.", "Hello.");
        persona.example_lines = vec!["Engines!".into()];
        persona.must_not_know = "the internet".into();
        persona.safety_notes = Some("Be kind.".into());
        persona.lorebook = Some(crate::Lorebook {
            entries: vec![crate::LoreEntry::new(["engine"], "The Analytical Engine.")],
            ..crate::Lorebook::default()
        });
        let text = persona_text(&persona);
        for needle in [
            "Name: Ada",
            "Description: A mathematician.",
            "Greeting: Hello.",
            "Example line: Engines!",
            "Must not know: the internet",
            "Safety notes: Be kind.",
            "Lore: The Analytical Engine.",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
    }

    #[test]
    fn verdicts() {
        assert!(Verdict::blocked(["hate"]).is_blocked());
        assert!(!Verdict::Allowed.is_blocked());
        assert_eq!(TextSource::Output.as_str(), "output");
    }
}
