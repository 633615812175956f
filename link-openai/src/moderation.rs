//! [`OpenAiModerator`]: Link's [`Moderator`] over OpenAI's moderation endpoint.
//!
//! Wire format (`POST {base_url}/moderations`, `Authorization: Bearer <key>`, JSON):
//!
//! ```json
//! {"model": "omni-moderation-latest", "input": "text to check"}
//! ```
//!
//! Response: `{"id": "modr-...", "model": "...", "results": [{"flagged": true,
//! "categories": {"harassment": false, "violence": true, ...}, "category_scores":
//! {"violence": 0.93, ...}, "category_applied_input_types": {"violence": ["text"], ...}}]}`,
//! one result per input. The omni models' categories: `harassment`,
//! `harassment/threatening`, `hate`, `hate/threatening`, `illicit`, `illicit/violent`,
//! `self-harm`, `self-harm/intent`, `self-harm/instructions`, `sexual`, `sexual/minors`,
//! `violence`, `violence/graphic`. Errors have the Chat Completions shape and statuses
//! (`{"error": {"message", "type", "param", "code"}}`; 401, 404 unknown model, 429, 5xx).

use std::collections::BTreeMap;

use async_trait::async_trait;
use link_core::{Error, Moderator, Result, TextSource, Verdict};
use serde::{Deserialize, Serialize};

use crate::config::OpenAiConfig;
use crate::transport::Transport;

/// The moderation model used unless another is set.
pub const DEFAULT_MODERATION_MODEL: &str = "omni-moderation-latest";

/// Checks text with OpenAI's moderation endpoint (free of charge for OpenAI API users).
///
/// A text is blocked when the result says `flagged`; the blocked [`Verdict`] lists the
/// categories set to `true` (`"violence"`, `"harassment/threatening"`, ...). OpenAI judges
/// a user's words and a model's the same way, so the [`TextSource`] is not sent. Failures
/// are mapped and retried as for the other calls of this crate (see the crate's errors):
/// 429 and 5xx are retryable [`Error::Provider`]s, no answer in time is [`Error::Timeout`],
/// a body that is not a moderation result is [`Error::MalformedOutput`].
///
/// ```no_run
/// use link_core::{Moderator, TextSource};
/// use link_openai::{OpenAiConfig, OpenAiModerator};
///
/// # async fn demo() -> link_core::Result<()> {
/// let moderator = OpenAiModerator::new(OpenAiConfig::from_env()?);
/// let verdict = moderator.check("Hello there!", TextSource::Input).await?;
/// assert!(!verdict.is_blocked());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiModerator {
    transport: Transport,
    model: String,
}

impl OpenAiModerator {
    /// A moderator reaching the server of `config` (its key, base URL, timeouts and retries;
    /// not its chat model), with [`DEFAULT_MODERATION_MODEL`].
    pub fn new(config: OpenAiConfig) -> Self {
        Self {
            transport: Transport::new(config),
            model: DEFAULT_MODERATION_MODEL.to_owned(),
        }
    }

    /// Uses the moderation model `model` (`"omni-moderation-2024-09-26"`, ...).
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The moderation model used.
    pub fn model(&self) -> &str {
        &self.model
    }
}

#[derive(Serialize)]
struct ModerationRequest<'a> {
    model: &'a str,
    input: &'a str,
}

#[derive(Deserialize)]
struct ModerationResponse {
    #[serde(default)]
    results: Vec<ModerationResult>,
}

#[derive(Deserialize)]
struct ModerationResult {
    flagged: bool,
    /// Unknown or null values are tolerated: only `true` counts.
    #[serde(default)]
    categories: BTreeMap<String, serde_json::Value>,
}

#[async_trait]
impl Moderator for OpenAiModerator {
    async fn check(&self, text: &str, _source: TextSource) -> Result<Verdict> {
        let body = ModerationRequest {
            model: &self.model,
            input: text,
        };
        let response = self.transport.post("moderations", &body, false).await?;
        let response: ModerationResponse = self.transport.read_json(response).await?;
        let result = response
            .results
            .into_iter()
            .next()
            .ok_or_else(|| Error::MalformedOutput {
                message: "the moderation response has no results".into(),
            })?;
        Ok(verdict(result))
    }
}

fn verdict(result: ModerationResult) -> Verdict {
    if !result.flagged {
        return Verdict::Allowed;
    }
    Verdict::blocked(
        (result.categories.into_iter())
            .filter(|(_, hit)| *hit == serde_json::Value::Bool(true))
            .map(|(name, _)| name),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn flagged_results_list_their_true_categories() {
        let result: ModerationResult = serde_json::from_str(
            r#"{"flagged": true, "categories": {"hate": false, "violence": true,
                "self-harm": null, "harassment/threatening": true}, "extra": 1}"#,
        )
        .unwrap();
        assert_eq!(
            verdict(result),
            Verdict::blocked(["harassment/threatening", "violence"])
        );
        let clean: ModerationResult =
            serde_json::from_str(r#"{"flagged": false, "categories": {"violence": true}}"#)
                .unwrap();
        assert_eq!(verdict(clean), Verdict::Allowed);
    }
}
