//! Where the engine asks its [`Moderator`]: what users send, replies (whole, or streamed
//! segment by segment through a [`Gate`]), personas with their greetings, and user personas.
//!
//! A blocked text becomes [`Error::ContentBlocked`] with the verdict's categories; the text
//! itself goes nowhere: not into the error, the log, the store or (for a reply) the audit.

use std::sync::Arc;

use super::Link;
use crate::moderation::persona_text;
use crate::{Error, Moderator, Persona, Result, TextSource, UserPersona, Verdict};

/// The engine's moderator and what it checks.
#[derive(Debug, Clone)]
pub(super) struct Moderation {
    pub(super) moderator: Arc<dyn Moderator>,
    /// Whether user input and replies are checked too (not when the chat model moderates
    /// them itself); personas and greetings always are.
    pub(super) turns: bool,
}

impl Link {
    /// The moderator for user input and replies, if they are checked.
    pub(super) fn turn_moderator(&self) -> Option<&Arc<dyn Moderator>> {
        (self.moderation.as_ref())
            .filter(|m| m.turns)
            .map(|m| &m.moderator)
    }

    /// Checks what a user sent, before anything else is done with it.
    pub(super) async fn moderate_input(&self, text: &str) -> Result<()> {
        match self.turn_moderator() {
            Some(moderator) => check(&**moderator, text, TextSource::Input).await,
            None => Ok(()),
        }
    }

    /// Checks a whole reply before it is stored or returned.
    pub(super) async fn moderate_reply(&self, text: &str) -> Result<()> {
        match self.turn_moderator() {
            Some(moderator) => check(&**moderator, text, TextSource::Output).await,
            None => Ok(()),
        }
    }

    /// Checks a persona, its greeting and `more_greetings` as one text (see
    /// [`persona_text`]): `source` is [`TextSource::Output`] for an extracted persona,
    /// [`TextSource::Input`] for one the user gave.
    pub(super) async fn moderate_persona(
        &self,
        persona: &Persona,
        more_greetings: &[String],
        source: TextSource,
    ) -> Result<()> {
        let Some(moderation) = &self.moderation else {
            return Ok(());
        };
        let mut text = persona_text(persona);
        for greeting in more_greetings {
            text.push_str("Greeting: ");
            text.push_str(greeting);
            text.push('\n');
        }
        check(&*moderation.moderator, &text, source).await
    }
}

impl Link {
    /// Checks a user persona (it goes into the system prompt, which no chat model's own
    /// guardrail assesses), whenever there is a moderator.
    pub(super) async fn moderate_user_persona(&self, persona: &UserPersona) -> Result<()> {
        let Some(moderation) = &self.moderation else {
            return Ok(());
        };
        let text = format!(
            "Name: {}\nDescription: {}\n",
            persona.name, persona.description
        );
        check(&*moderation.moderator, &text, TextSource::Input).await
    }
}

/// Asks `moderator` about `text`: `Ok` if allowed, [`Error::ContentBlocked`] if not.
pub(super) async fn check(moderator: &dyn Moderator, text: &str, source: TextSource) -> Result<()> {
    match moderator.check(text, source).await? {
        Verdict::Allowed => Ok(()),
        Verdict::Blocked { categories } => {
            tracing::info!(
                source = source.as_str(),
                categories = ?categories,
                "moderation blocked a text"
            );
            Err(Error::ContentBlocked { categories })
        }
    }
}

/// A streamed segment is released once it holds at least this many bytes and ends a sentence
/// (`.`, `!`, `?` or `…` followed by white space, which the segment keeps; or a line break):
/// few moderation calls, each on text with enough context to judge.
pub(super) const MIN_SEGMENT: usize = 64;

/// A segment with no sentence end is released once it holds this many bytes, cut after its
/// last white space (or whole, if it has none), so the text keeps flowing.
pub(super) const MAX_SEGMENT: usize = 512;

/// Holds a streamed reply back until the moderator passed it: text is released a segment at
/// a time (see [`MIN_SEGMENT`] and [`MAX_SEGMENT`]), each segment checked on its own, and
/// at the end the rest is checked and then the whole reply, before the rest is released.
/// What was not released is never sent or stored.
#[derive(Debug)]
pub(super) struct Gate {
    moderator: Arc<dyn Moderator>,
    pending: String,
    released: String,
    segments: usize,
}

impl Gate {
    pub(super) fn new(moderator: Arc<dyn Moderator>) -> Self {
        Self {
            moderator,
            pending: String::new(),
            released: String::new(),
            segments: 0,
        }
    }

    /// The text released so far.
    pub(super) fn released(&self) -> &str {
        &self.released
    }

    /// Takes a delta; gives back the text it releases now (often none).
    pub(super) async fn push(&mut self, delta: &str) -> Result<Option<String>> {
        self.pending.push_str(delta);
        let Some(end) = segment_end(&self.pending) else {
            return Ok(None);
        };
        let rest = self.pending.split_off(end);
        let segment = std::mem::replace(&mut self.pending, rest);
        check(&*self.moderator, &segment, TextSource::Output).await?;
        self.release(&segment);
        Ok(Some(segment))
    }

    /// The reply ended: checks what is held back and the whole reply, and gives back the
    /// text released last.
    pub(super) async fn finish(&mut self) -> Result<String> {
        let rest = std::mem::take(&mut self.pending);
        if !rest.trim().is_empty() {
            check(&*self.moderator, &rest, TextSource::Output).await?;
        }
        if self.segments > 0 {
            // A reply can be harmful as a whole while each segment passes alone.
            let whole = format!("{}{rest}", self.released);
            check(&*self.moderator, &whole, TextSource::Output).await?;
        }
        self.release(&rest);
        Ok(rest)
    }

    fn release(&mut self, segment: &str) {
        self.released.push_str(segment);
        self.segments += 1;
    }
}

/// Where the segment to release ends in `pending`, if one is ready.
fn segment_end(pending: &str) -> Option<usize> {
    if pending.len() < MIN_SEGMENT {
        return None;
    }
    let mut chars = pending.char_indices().peekable();
    let mut end = None;
    while let Some((i, c)) = chars.next() {
        // A segment takes the white space after its sentence end with it.
        let after = match chars.peek() {
            Some(&(j, next)) if matches!(c, '.' | '!' | '?' | '…') && next.is_whitespace() => {
                Some(j + next.len_utf8())
            }
            _ if c == '\n' => Some(i + 1),
            _ => None,
        };
        if let Some(after) = after.filter(|&after| after >= MIN_SEGMENT) {
            end = Some(after);
        }
    }
    if end.is_some() || pending.len() < MAX_SEGMENT {
        return end;
    }
    let cut = pending
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, c)| i + c.len_utf8())
        .filter(|&i| i < pending.len());
    Some(cut.unwrap_or(pending.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_waits() {
        assert_eq!(segment_end("Hello. How are you? "), None);
    }

    #[test]
    fn a_segment_ends_at_the_last_sentence_end_past_the_minimum() {
        let first = "This sentence is long enough on its own to make a whole segment.";
        assert!(first.len() >= MIN_SEGMENT);
        let pending = format!("{first} And this one is not done");
        assert_eq!(segment_end(&pending), Some(first.len() + 1));
        // A full stop not yet followed by anything may be a decimal point: wait.
        assert_eq!(segment_end(first), None);
        let two = format!("{first} Short. Next");
        assert_eq!(segment_end(&two), Some(first.len() + " Short. ".len()));
        let line = format!("{}\nmore", "x ".repeat(40));
        assert_eq!(segment_end(&line), Some(81));
    }

    #[test]
    fn a_long_run_without_sentence_end_is_cut_at_white_space() {
        let words = "word ".repeat(110);
        let pending = format!("{words}unfinish");
        assert_eq!(segment_end(&pending), Some(words.len()));
        let blob = "é".repeat(300);
        assert_eq!(segment_end(&blob), Some(blob.len()));
    }
}
