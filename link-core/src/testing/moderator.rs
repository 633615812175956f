//! A moderator that blocks texts containing words a test chose, and remembers every check.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::moderation::{Moderator, TextSource, Verdict};
use crate::{Error, Result};

/// A [`Moderator`] that blocks every text containing one of its words (case-insensitive),
/// with the category given for that word, and records each check it was asked for.
///
/// ```
/// use link_core::testing::ScriptedModerator;
/// use link_core::{Moderator, TextSource, Verdict};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let moderator = ScriptedModerator::blocking([("dragon", "violence")]);
/// let verdict = moderator.check("Here be DRAGONS", TextSource::Output).await.unwrap();
/// assert_eq!(verdict, Verdict::blocked(["violence"]));
/// assert_eq!(moderator.checks(), vec![("Here be DRAGONS".to_owned(), TextSource::Output)]);
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct ScriptedModerator {
    words: Arc<Vec<(String, String)>>,
    failure: Option<Error>,
    checks: Arc<Mutex<Vec<(String, TextSource)>>>,
}

impl ScriptedModerator {
    /// Blocks texts containing a word of `words` (`(word, category)` pairs).
    pub fn blocking<W: Into<String>, C: Into<String>>(
        words: impl IntoIterator<Item = (W, C)>,
    ) -> Self {
        let words = words
            .into_iter()
            .map(|(w, c)| (w.into().to_lowercase(), c.into()))
            .collect();
        Self {
            words: Arc::new(words),
            ..Self::default()
        }
    }

    /// Fails every check with `error` (a moderation service that is down).
    pub fn failing(error: Error) -> Self {
        Self {
            failure: Some(error),
            ..Self::default()
        }
    }

    /// Every text checked so far with its source, in order.
    pub fn checks(&self) -> Vec<(String, TextSource)> {
        self.checks.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Moderator for ScriptedModerator {
    async fn check(&self, text: &str, source: TextSource) -> Result<Verdict> {
        if let Ok(mut checks) = self.checks.lock() {
            checks.push((text.to_owned(), source));
        }
        if let Some(error) = &self.failure {
            return Err(error.clone());
        }
        let lower = text.to_lowercase();
        let categories: Vec<&String> = (self.words.iter())
            .filter(|(word, _)| lower.contains(word.as_str()))
            .map(|(_, category)| category)
            .collect();
        if categories.is_empty() {
            Ok(Verdict::Allowed)
        } else {
            Ok(Verdict::blocked(categories.into_iter().cloned()))
        }
    }
}
