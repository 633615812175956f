//! Stop sequences: the reply ends where one appears, and the sequence itself is never shown.
//!
//! A stop sequence can arrive split across several tokens ("</" then "end>"), so text that
//! could still be the start of one is held back until it is clearly not.

/// Watches streamed text for stop sequences.
#[derive(Debug)]
pub(crate) struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

/// What [`StopMatcher::push`] decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Text that is safe to show now.
    pub(crate) text: String,
    /// Whether a stop sequence was found (the text before it is in `text`).
    pub(crate) stopped: bool,
}

impl StopMatcher {
    /// A matcher for `stops`; empty sequences are ignored.
    pub(crate) fn new(stops: &[String]) -> Self {
        let stops = stops.iter().filter(|s| !s.is_empty()).cloned().collect();
        Self {
            stops,
            held: String::new(),
        }
    }

    /// Adds newly generated text.
    pub(crate) fn push(&mut self, text: &str) -> Scan {
        self.held.push_str(text);
        let first_stop = self
            .stops
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min();
        if let Some(at) = first_stop {
            self.held.truncate(at);
            return Scan {
                text: std::mem::take(&mut self.held),
                stopped: true,
            };
        }
        let keep = self.partial_suffix_len();
        let split = self.held.len() - keep;
        let rest = self.held.split_off(split);
        Scan {
            text: std::mem::replace(&mut self.held, rest),
            stopped: false,
        }
    }

    /// The held-back text when the reply ends for another reason: it was no stop sequence.
    pub(crate) fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// Length in bytes of the longest suffix of the held text that begins some stop sequence.
    fn partial_suffix_len(&self) -> usize {
        self.held
            .char_indices()
            .map(|(i, _)| i)
            .find(|&i| {
                let tail = &self.held[i..];
                self.stops.iter().any(|s| s.starts_with(tail))
            })
            .map_or(0, |i| self.held.len() - i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| (*s).to_owned()).collect();
        let mut m = StopMatcher::new(&stops);
        let mut out = String::new();
        for piece in pieces {
            let scan = m.push(piece);
            out.push_str(&scan.text);
            if scan.stopped {
                return (out, true);
            }
        }
        out.push_str(&m.finish());
        (out, false)
    }

    #[test]
    fn a_sequence_split_across_tokens_is_caught_and_hidden() {
        assert_eq!(
            run(&["</end>"], &["Hello </", "en", "d> more"]),
            ("Hello ".into(), true)
        );
    }

    #[test]
    fn a_false_start_is_released() {
        assert_eq!(run(&["</end>"], &["a </", "b"]), ("a </b".into(), false));
    }

    #[test]
    fn the_earliest_of_several_sequences_wins() {
        assert_eq!(run(&["B", "A"], &["xxAyyB"]), ("xx".into(), true));
    }

    #[test]
    fn held_text_is_flushed_at_the_end_and_multibyte_text_is_safe() {
        assert_eq!(run(&["éz"], &["ok é"]), ("ok é".into(), false));
        assert_eq!(run(&[], &["plain"]), ("plain".into(), false));
    }

    #[test]
    fn text_is_released_as_soon_as_it_cannot_start_a_stop() {
        let mut m = StopMatcher::new(&["User:".to_owned()]);
        assert_eq!(m.push("Hi Us").text, "Hi ");
        assert_eq!(m.push("ual").text, "Usual");
    }
}
