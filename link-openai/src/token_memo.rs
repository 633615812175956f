//! Token counts of texts counted before. A turn counts its whole prompt again (the system
//! prompt and every history message, to fit them to the model's window), and tiktoken's BPE
//! is the dearest part of a turn: about 2.6 M instructions a turn at 20 history messages,
//! three quarters of the turn's CPU (`benches/overhead.sh`). The texts repeat from turn to
//! turn, so their counts are kept, per encoding, for the process.
//!
//! The key is a 64-bit hash of the text with its length; a collision would give one text
//! another's count (a prompt fitted a little loose or tight), never an error. Short texts
//! are counted again: hashing them costs about what counting does.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

/// Texts shorter than this are not kept.
const MIN_BYTES: usize = 64;
/// At most this many counts are kept; past it the memo starts over.
const CAPACITY: usize = 16_384;

/// Counts by text, for one encoding.
#[derive(Debug, Default)]
pub(crate) struct TokenMemo(Mutex<HashMap<(u64, usize), usize>>);

impl TokenMemo {
    /// `text`'s count: the one kept, or `count(text)` (then kept).
    pub(crate) fn count(&self, text: &str, count: impl FnOnce(&str) -> usize) -> usize {
        if text.len() < MIN_BYTES {
            return count(text);
        }
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

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_long_text_is_counted_once_and_a_short_one_every_time() {
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
        assert_eq!(calls.get(), 4, "short texts are not kept");
    }
}
