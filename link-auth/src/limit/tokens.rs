//! A daily token quota per principal, kept in this process: the tokens each principal's
//! model calls used since the last midnight UTC, as the models reported them.
//!
//! In memory, so each process counts only what it served: behind several replicas a user may
//! use up to one quota per replica, and a restart forgets the day. A store shared by the
//! replicas (DynamoDB) is what makes one quota hold across them.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DAY_SECS: u64 = 24 * 60 * 60;

/// The tokens spent today, per principal `sub`.
#[derive(Debug)]
pub(crate) struct DailyTokens {
    quota: u64,
    spent: Mutex<Spent>,
}

/// One UTC day's spending; a new day starts from nothing (the map holds only today's
/// spenders).
#[derive(Debug, Default)]
struct Spent {
    day: u64,
    by_sub: HashMap<String, u64>,
}

impl DailyTokens {
    /// A quota of `quota` tokens a day.
    pub(crate) fn new(quota: u64) -> Self {
        Self {
            quota,
            spent: Mutex::default(),
        }
    }

    /// The quota, in tokens a day.
    pub(crate) fn quota(&self) -> u64 {
        self.quota
    }

    /// How long until `sub`'s quota renews at `now`, if it is used up.
    pub(crate) fn exhausted(&self, sub: &str, now: SystemTime) -> Option<Duration> {
        let (day, into_day) = day_of(now);
        let spent = self.today(day);
        let used = spent.by_sub.get(sub).copied().unwrap_or(0);
        // Whole seconds to midnight, rounded up: at least one.
        (used >= self.quota).then(|| Duration::from_secs(DAY_SECS - into_day))
    }

    /// Adds `tokens` to what `sub` spent on `now`'s day.
    pub(crate) fn spend(&self, sub: &str, tokens: u64, now: SystemTime) {
        let (day, _) = day_of(now);
        let mut spent = self.today(day);
        let used = spent.by_sub.entry(sub.to_owned()).or_default();
        *used = used.saturating_add(tokens);
    }

    /// The spending of `day`, starting it afresh if the last one recorded was another day.
    fn today(&self, day: u64) -> MutexGuard<'_, Spent> {
        // A panic elsewhere while the lock was held leaves counts that are still counts.
        let mut spent = self
            .spent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if spent.day != day {
            *spent = Spent {
                day,
                by_sub: HashMap::new(),
            };
        }
        spent
    }
}

/// The UTC day of `now` (days since the epoch) and the whole seconds already past in it.
fn day_of(now: SystemTime) -> (u64, u64) {
    let secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    (secs / DAY_SECS, secs % DAY_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn the_quota_renews_at_midnight_utc() {
        let tokens = DailyTokens::new(100);
        // 2024-01-01T23:00:00Z.
        let late = 19_723 * DAY_SECS + 23 * 3600;
        tokens.spend("alice", 60, at(late));
        assert_eq!(tokens.exhausted("alice", at(late)), None);
        tokens.spend("alice", 40, at(late + 1));
        assert_eq!(
            tokens.exhausted("alice", at(late + 1)),
            Some(Duration::from_secs(3599))
        );
        assert_eq!(tokens.exhausted("bob", at(late + 1)), None);
        // One second after midnight: a new day, nothing spent.
        assert_eq!(tokens.exhausted("alice", at(late + 3601)), None);
    }

    #[test]
    fn a_clock_before_the_epoch_is_day_zero() {
        let tokens = DailyTokens::new(1);
        let before = UNIX_EPOCH - Duration::from_secs(5);
        tokens.spend("alice", 1, before);
        assert_eq!(
            tokens.exhausted("alice", before),
            Some(Duration::from_secs(DAY_SECS))
        );
    }
}
