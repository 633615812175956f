//! The [`Moderator`] checks: a clean text is allowed from either source; a text the adapter's
//! service flags is blocked from either source, with categories that never hold the text.

use super::expect_ok;
use crate::{Moderator, TextSource, Verdict};

/// Texts for the checks, chosen by the adapter's test for its service (or its mock).
#[derive(Debug, Clone)]
pub struct Texts {
    /// A text the service allows.
    pub clean: String,
    /// A text the service blocks.
    pub flagged: String,
}

/// Runs every check of this module, in order.
pub async fn moderator(moderator: &dyn Moderator, texts: &Texts) {
    a_clean_text_is_allowed(moderator, texts).await;
    a_flagged_text_is_blocked_without_its_text(moderator, texts).await;
}

/// `clean` is [`Verdict::Allowed`] as user input and as model output.
pub async fn a_clean_text_is_allowed(moderator: &dyn Moderator, texts: &Texts) {
    for source in [TextSource::Input, TextSource::Output] {
        let verdict = expect_ok(moderator.check(&texts.clean, source).await, "check");
        assert_eq!(
            verdict,
            Verdict::Allowed,
            "a clean text must be allowed as {}",
            source.as_str()
        );
    }
}

/// `flagged` is [`Verdict::Blocked`] as user input and as model output, with at least one
/// category, none of which contains the text (categories are logged and shown).
pub async fn a_flagged_text_is_blocked_without_its_text(moderator: &dyn Moderator, texts: &Texts) {
    for source in [TextSource::Input, TextSource::Output] {
        let verdict = expect_ok(moderator.check(&texts.flagged, source).await, "check");
        let Verdict::Blocked { categories } = verdict else {
            panic!("a flagged text must be blocked as {}", source.as_str());
        };
        assert!(
            !categories.is_empty(),
            "a block must name at least one category"
        );
        for category in &categories {
            assert!(
                !category.contains(texts.flagged.trim()),
                "a category holds the blocked text: {category}"
            );
        }
    }
}
