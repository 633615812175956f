//! Token counts of texts counted before. A turn counts its whole prompt again (the system
//! prompt and every history message, to fit them to the model's window), and tiktoken's BPE
//! is the dearest part of a turn: about 2.6 M instructions a turn at 20 history messages,
//! three quarters of the turn's CPU (`benches/overhead.sh`). The texts repeat from turn to
//! turn, so their counts are kept, per encoding, for the process.
//!
//! A long text is kept by paragraphs: a system prompt whose memory block changed, or a
//! message edited at its end, costs only its new paragraphs. The cut is exact, not an
//! estimate: it falls after a run of line breaks and before a character that is not
//! whitespace, where both encodings' pre-tokenizer patterns (cl100k and o200k) always end a
//! piece (no piece continues from a line break into a word, number or punctuation), and BPE
//! never merges across pieces, so the sum of the parts' counts is the whole's.
//!
//! The key is a 64-bit hash of the text with its length; a collision would give one text
//! another's count (a prompt fitted a little loose or tight), never an error. Short texts are
//! kept too: a chat's user messages are mostly short, and counting one (tiktoken's
//! pre-tokenizer is a backtracking regex) costs about 25,000 instructions where hashing it
//! costs a few hundred.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

/// Texts shorter than this are split no further.
const MIN_BYTES: usize = 64;
/// At most this many counts are kept; past it the memo starts over.
const CAPACITY: usize = 16_384;

/// Counts by text, for one encoding.
#[derive(Debug, Default)]
pub(crate) struct TokenMemo(Mutex<HashMap<(u64, usize), usize>>);

impl TokenMemo {
    /// `text`'s count, by `count`, summed over its paragraphs, each the one kept or counted
    /// (then kept).
    pub(crate) fn count(&self, text: &str, count: impl Fn(&str) -> usize) -> usize {
        if text.len() < MIN_BYTES {
            return self.count_one(text, count);
        }
        paragraphs(text)
            .map(|part| self.count_one(part, &count))
            .sum()
    }

    /// One paragraph's count: the one kept, or `count(text)` (then kept).
    fn count_one(&self, text: &str, count: impl FnOnce(&str) -> usize) -> usize {
        let mut hasher = DefaultHasher::new();
        text.hash(&mut hasher);
        let key = (hasher.finish(), text.len());
        if let Some(&known) = self.0.lock().ok().as_ref().and_then(|map| map.get(&key)) {
            return known;
        }
        let counted = count(text);
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(key, counted);
        }
        counted
    }
}

/// `text` cut after each run of line breaks that a non-whitespace character follows.
fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = rest
            .match_indices('\n')
            .map(|(at, _)| at + 1)
            .find(|&at| {
                rest[at..]
                    .chars()
                    .next()
                    .is_some_and(|c| !c.is_whitespace())
            })
            .unwrap_or(rest.len());
        let (part, tail) = rest.split_at(cut);
        rest = tail;
        Some(part)
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_text_is_counted_once_long_or_short() {
        let memo = TokenMemo::default();
        let calls = Cell::new(0);
        let count = |text: &str| {
            calls.set(calls.get() + 1);
            text.len() / 4
        };
        let long = "word ".repeat(40);
        assert_eq!(memo.count(&long, count), 50);
        assert_eq!(memo.count(&long, count), 50);
        assert_eq!(calls.get(), 1, "the second count is the kept one");
        let other = "text ".repeat(40);
        assert_eq!(memo.count(&other, count), 50);
        assert_eq!(calls.get(), 2, "another text is counted");
        memo.count("short", count);
        memo.count("short", count);
        assert_eq!(calls.get(), 3, "short texts are kept too");
    }

    #[test]
    fn a_changed_paragraph_is_the_only_one_counted_again() {
        let memo = TokenMemo::default();
        let calls = Cell::new(0);
        let count = |text: &str| {
            calls.set(calls.get() + 1);
            text.len()
        };
        let persona = "You are Ada Lovelace, a mathematician of the 1840s. ".repeat(3);
        let first = format!("{persona}\n\n<memory>The user asked about engines.</memory>\n");
        assert_eq!(memo.count(&first, count), first.len());
        let counted = calls.get();
        let second =
            format!("{persona}\n\n<memory>The user asked about looms and cards.</memory>\n");
        assert_eq!(memo.count(&second, count), second.len());
        assert_eq!(calls.get(), counted + 1, "only the memory paragraph is new");
    }

    #[test]
    fn paragraphs_cut_only_before_a_character_after_line_breaks() {
        let parts: Vec<_> = paragraphs("a\n\nb c.\n \nd\r\n\u{a0}e\nf\n").collect();
        assert_eq!(parts, ["a\n\n", "b c.\n \n", "d\r\n\u{a0}e\n", "f\n"]);
        assert_eq!(parts.concat(), "a\n\nb c.\n \nd\r\n\u{a0}e\nf\n");
    }
}
