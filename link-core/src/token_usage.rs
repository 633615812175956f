//! What a user's conversations cost in model tokens: a [`TokenTally`] per conversation and
//! calendar [`Month`], added to in the same store write as the turn it paid for (see
//! [`Splice::tokens`](crate::Splice::tokens)) and read back with
//! [`ConversationStore::token_usage`](crate::ConversationStore::token_usage), or with the
//! characters' names through [`Link::token_usage`](crate::Link::token_usage).
//!
//! Only the chat model's calls that reported usage are counted (a reply, a regenerated or
//! resent one, also one a guardrail then blocked); a stream dropped before the model reported
//! its usage counts nothing, as no figure exists for it. These are the same figures that the
//! audit events carry and that the daily token quota is spent with.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{ConversationId, Error, Usage};

/// A calendar month in UTC, written `YYYY-MM` (`2026-12`): the period token tallies are kept
/// per.
///
/// ```
/// use link_core::Month;
/// let month: Month = "2026-03".parse().unwrap();
/// assert_eq!(month.to_string(), "2026-03");
/// assert_eq!((month.year(), month.month()), (2026, 3));
/// assert!("2026-13".parse::<Month>().is_err());
/// assert!("March".parse::<Month>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: u16,
    month: u8,
}

impl Month {
    /// The month `month` (1 to 12) of `year` (1 to 9999); an
    /// [`Error::InvalidRequest`] otherwise.
    pub fn new(year: u16, month: u8) -> Result<Self, Error> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(invalid_month());
        }
        Ok(Self { year, month })
    }

    /// The UTC month `at` falls in.
    pub fn of(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        Self {
            // Years outside 1..=9999 are not produced by a real clock; clamp rather than fail.
            year: u16::try_from(at.year().clamp(1, 9999)).unwrap_or(1),
            month: u8::from(at.month()),
        }
    }

    /// The month it is now, in UTC.
    pub fn current() -> Self {
        Self::of(OffsetDateTime::now_utc())
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month of the year, 1 (January) to 12.
    pub fn month(self) -> u8 {
        self.month
    }
}

fn invalid_month() -> Error {
    Error::invalid("a month is written YYYY-MM, for example 2026-03 (month 01 to 12)")
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = Error;

    /// Parses exactly `YYYY-MM`: four digits, a hyphen, two digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (year, month) = s.split_once('-').ok_or_else(invalid_month)?;
        let digits =
            |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 4) || !digits(month, 2) {
            return Err(invalid_month());
        }
        let year = year.parse().map_err(|_| invalid_month())?;
        let month = month.parse().map_err(|_| invalid_month())?;
        Self::new(year, month)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Model tokens added up over some model calls, as the providers reported them.
///
/// A call whose provider reported no usage is not counted at all (not as zero tokens), so
/// `calls` is the number of calls whose tokens are in the sums.
///
/// ```
/// use link_core::{TokenTally, Usage};
/// let mut tally = TokenTally::of(Usage::new(120, 30));
/// tally.add(TokenTally::of(Usage::new(200, 10)));
/// assert_eq!((tally.input_tokens, tally.output_tokens, tally.calls), (320, 40, 2));
/// assert_eq!(tally.total_tokens(), 360);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenTally {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// How many model calls the tokens are of.
    pub calls: u64,
}

impl TokenTally {
    /// The tally of one model call that reported `usage`.
    pub fn of(usage: Usage) -> Self {
        Self {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            calls: 1,
        }
    }

    /// Adds `other` to this tally (saturating: a tally never wraps around).
    pub fn add(&mut self, other: TokenTally) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.calls = self.calls.saturating_add(other.calls);
    }

    /// Input and output tokens together.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// The tokens one conversation used in one month (see
/// [`ConversationStore::token_usage`](crate::ConversationStore::token_usage)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationTokens {
    /// The conversation; it may have been deleted since (its tally is kept).
    pub conversation: ConversationId,
    /// What its model calls used that month.
    pub tokens: TokenTally,
}

/// What one conversation used in a month, with the name of its character: a line of a
/// [`MonthUsage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationUsage {
    /// The conversation.
    pub conversation: ConversationId,
    /// The character's name; `None` if the conversation has been deleted since.
    pub name: Option<String>,
    /// What its model calls used that month.
    pub tokens: TokenTally,
}

/// What a user's conversations used in one month (see
/// [`Link::token_usage`](crate::Link::token_usage)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthUsage {
    /// The month.
    pub month: Month,
    /// The sum over every conversation.
    pub total: TokenTally,
    /// Each conversation that used any tokens that month, the most tokens first.
    pub conversations: Vec<ConversationUsage>,
}

/// Sorts tallies in the order [`ConversationStore::token_usage`] returns them: the most
/// tokens first, ties broken by the newer conversation id first.
///
/// [`ConversationStore::token_usage`]: crate::ConversationStore::token_usage
pub fn sort_tallies(tallies: &mut [ConversationTokens]) {
    tallies.sort_by(|a, b| {
        (b.tokens.total_tokens(), b.conversation).cmp(&(a.tokens.total_tokens(), a.conversation))
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn months_round_trip_and_reject_anything_else() {
        for text in ["2026-01", "2026-12", "0001-01", "9999-12"] {
            assert_eq!(text.parse::<Month>().unwrap().to_string(), text);
        }
        for text in [
            "",
            "2026",
            "2026-1",
            "2026-00",
            "2026-13",
            "26-03",
            "0000-01",
            "2026-03-01",
            "+026-03",
            "2026-+3",
            "２０２６-03",
            " 2026-03",
        ] {
            let error = text.parse::<Month>().unwrap_err();
            assert!(
                matches!(error, Error::InvalidRequest { .. }),
                "{text:?}: {error}"
            );
        }
    }

    #[test]
    fn the_month_of_a_time_is_its_utc_month() {
        let late = time::macros::datetime!(2026-03-31 23:30 -02:00);
        assert_eq!(Month::of(late).to_string(), "2026-04");
        let utc = time::macros::datetime!(2026-12-31 23:59 UTC);
        assert_eq!(Month::of(utc), Month::new(2026, 12).unwrap());
    }

    #[test]
    fn months_serialize_as_text() {
        let month = Month::new(2026, 7).unwrap();
        assert_eq!(serde_json::to_string(&month).unwrap(), "\"2026-07\"");
        let back: Month = serde_json::from_str("\"2026-07\"").unwrap();
        assert_eq!(back, month);
        assert!(serde_json::from_str::<Month>("\"2026-7\"").is_err());
    }

    #[test]
    fn tallies_sort_largest_first() {
        let small = ConversationId::new();
        let large = ConversationId::new();
        let tie = ConversationId::new();
        let tally = |i, o| TokenTally {
            input_tokens: i,
            output_tokens: o,
            calls: 1,
        };
        let mut list = vec![
            ConversationTokens {
                conversation: small,
                tokens: tally(1, 1),
            },
            ConversationTokens {
                conversation: large,
                tokens: tally(10, 5),
            },
            ConversationTokens {
                conversation: tie,
                tokens: tally(1, 1),
            },
        ];
        sort_tallies(&mut list);
        let order: Vec<_> = list.iter().map(|t| t.conversation).collect();
        assert_eq!(order, [large, tie, small]);
    }
}
