//! [`GuardrailCheck`]: a persona (or any text) checked with ApplyGuardrail before it is used;
//! also Link's [`Moderator`] for Bedrock.

use async_trait::async_trait;
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::operation::apply_guardrail::ApplyGuardrailOutput;
use aws_sdk_bedrockruntime::types::{
    GuardrailAction, GuardrailContentBlock, GuardrailContentSource, GuardrailTextBlock,
};
use link_core::moderation::persona_text;
use link_core::{Error, Moderator, Persona, Result, TextSource, Verdict};

use crate::Guardrail;
use crate::error::from_sdk;

/// Checks text against a Bedrock guardrail with `ApplyGuardrail`, without calling a model. A
/// persona is checked as a whole, every field, before it is accepted.
///
/// It is also a [`Moderator`]: [`TextSource::Input`] is sent as source `INPUT`,
/// [`TextSource::Output`] as `OUTPUT`; `GUARDRAIL_INTERVENED` is a blocked [`Verdict`] whose
/// categories name the policies that acted (`topic:<name>`, `content:<filter type>`,
/// `word:custom`, `word:<managed list>`, `pii:<entity type>`, `regex:<name>`,
/// `grounding:<type>`), never the matched text.
///
/// ```no_run
/// use link_bedrock::{Guardrail, GuardrailCheck};
/// use link_core::{Persona, PersonaKind};
///
/// # async fn demo(persona: Persona) -> link_core::Result<()> {
/// let client = link_bedrock::client_from_env().await;
/// let check = GuardrailCheck::new(client, Guardrail::new("gr-abc123", "1"))?;
/// check.check_persona(&persona).await?; // Err(Error::GuardrailBlocked { .. }) if blocked
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GuardrailCheck {
    client: Client,
    guardrail: Guardrail,
}

impl GuardrailCheck {
    /// A check with `guardrail` through `client`.
    pub fn new(client: Client, guardrail: Guardrail) -> Result<Self> {
        guardrail.validate()?;
        Ok(Self { client, guardrail })
    }

    /// The guardrail used.
    pub fn guardrail(&self) -> &Guardrail {
        &self.guardrail
    }

    /// `Ok` if the guardrail lets `persona` through; [`Error::GuardrailBlocked`] with the
    /// guardrail's message if it intervenes.
    pub async fn check_persona(&self, persona: &Persona) -> Result<()> {
        self.check_text(&persona_text(persona)).await
    }

    /// `Ok` if the guardrail lets `text` through as user input.
    pub async fn check_text(&self, text: &str) -> Result<()> {
        let output = self.apply(text, GuardrailContentSource::Input).await?;
        verdict(&output)
    }

    async fn apply(
        &self,
        text: &str,
        source: GuardrailContentSource,
    ) -> Result<ApplyGuardrailOutput> {
        let block = GuardrailTextBlock::builder()
            .text(text)
            .build()
            .map_err(|e| Error::invalid(format!("bad guardrail text block: {e}")))?;
        self.client
            .apply_guardrail()
            .guardrail_identifier(self.guardrail.identifier())
            .guardrail_version(self.guardrail.version())
            .source(source)
            .content(GuardrailContentBlock::Text(block))
            .send()
            .await
            .map_err(|e| from_sdk(e, "ApplyGuardrail"))
    }
}

#[async_trait]
impl Moderator for GuardrailCheck {
    async fn check(&self, text: &str, source: TextSource) -> Result<Verdict> {
        let source = match source {
            TextSource::Input => GuardrailContentSource::Input,
            TextSource::Output => GuardrailContentSource::Output,
        };
        let output = self.apply(text, source).await?;
        if output.action != GuardrailAction::GuardrailIntervened {
            return Ok(Verdict::Allowed);
        }
        Ok(Verdict::Blocked {
            categories: categories(&output),
        })
    }
}

/// The policies that acted on the text, by name or type: never what they matched.
fn categories(output: &ApplyGuardrailOutput) -> Vec<String> {
    let acted = |action: &str| action != "NONE";
    let mut found = Vec::new();
    for assessment in &output.assessments {
        if let Some(topics) = assessment.topic_policy() {
            for topic in topics
                .topics()
                .iter()
                .filter(|t| acted(t.action().as_str()))
            {
                found.push(format!("topic:{}", topic.name()));
            }
        }
        if let Some(content) = assessment.content_policy() {
            for filter in content
                .filters()
                .iter()
                .filter(|f| acted(f.action().as_str()))
            {
                found.push(format!("content:{}", filter.r#type().as_str()));
            }
        }
        if let Some(words) = assessment.word_policy() {
            if words
                .custom_words()
                .iter()
                .any(|w| acted(w.action().as_str()))
            {
                found.push("word:custom".to_owned());
            }
            for list in words
                .managed_word_lists()
                .iter()
                .filter(|w| acted(w.action().as_str()))
            {
                found.push(format!("word:{}", list.r#type().as_str()));
            }
        }
        if let Some(sensitive) = assessment.sensitive_information_policy() {
            for pii in sensitive
                .pii_entities()
                .iter()
                .filter(|p| acted(p.action().as_str()))
            {
                found.push(format!("pii:{}", pii.r#type().as_str()));
            }
            for regex in sensitive
                .regexes()
                .iter()
                .filter(|r| acted(r.action().as_str()))
            {
                found.push(format!("regex:{}", regex.name().unwrap_or("unnamed")));
            }
        }
        if let Some(grounding) = assessment.contextual_grounding_policy() {
            for filter in grounding
                .filters()
                .iter()
                .filter(|f| acted(f.action().as_str()))
            {
                found.push(format!("grounding:{}", filter.r#type().as_str()));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

fn verdict(output: &ApplyGuardrailOutput) -> Result<()> {
    if output.action != GuardrailAction::GuardrailIntervened {
        return Ok(());
    }
    let message = output
        .outputs
        .iter()
        .filter_map(|o| o.text.as_deref())
        .find(|t| !t.trim().is_empty())
        .or(output.action_reason.as_deref())
        .unwrap_or("the guardrail blocked this content")
        .to_owned();
    tracing::info!("Bedrock guardrail blocked a persona check");
    Err(Error::GuardrailBlocked { message })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use aws_sdk_bedrockruntime::types::GuardrailOutputContent;
    use link_core::PersonaKind;

    use super::*;

    #[test]
    fn every_field_is_in_the_checked_text() {
        let mut persona =
            Persona::new("Ada", PersonaKind::Historical, "A mathematician.", "Hello.");
        persona.example_lines = vec!["Engines!".into()];
        persona.must_not_know = "the internet".into();
        let text = persona_text(&persona);
        for needle in [
            "Name: Ada",
            "A mathematician.",
            "Greeting: Hello.",
            "Engines!",
            "the internet",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
    }

    #[test]
    fn interventions_carry_the_guardrail_message() {
        let blocked = ApplyGuardrailOutput::builder()
            .action(GuardrailAction::GuardrailIntervened)
            .outputs(
                GuardrailOutputContent::builder()
                    .text("Not allowed.")
                    .build(),
            )
            .set_assessments(Some(Vec::new()))
            .build()
            .unwrap();
        assert_eq!(
            verdict(&blocked),
            Err(Error::GuardrailBlocked {
                message: "Not allowed.".into()
            })
        );
        let fine = ApplyGuardrailOutput::builder()
            .action(GuardrailAction::None)
            .set_outputs(Some(Vec::new()))
            .set_assessments(Some(Vec::new()))
            .build()
            .unwrap();
        assert_eq!(verdict(&fine), Ok(()));
    }
}
