//! [`GuardrailCheck`]: a persona (or any text) checked with ApplyGuardrail before it is used.

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::operation::apply_guardrail::ApplyGuardrailOutput;
use aws_sdk_bedrockruntime::types::{
    GuardrailAction, GuardrailContentBlock, GuardrailContentSource, GuardrailTextBlock,
};
use link_core::{Error, Persona, Result};

use crate::Guardrail;
use crate::error::from_sdk;

/// Checks text against a Bedrock guardrail with `ApplyGuardrail` (source `INPUT`), without
/// calling a model. A persona is checked as a whole, every field, before it is accepted.
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
        let block = GuardrailTextBlock::builder()
            .text(text)
            .build()
            .map_err(|e| Error::invalid(format!("bad guardrail text block: {e}")))?;
        let output = self
            .client
            .apply_guardrail()
            .guardrail_identifier(self.guardrail.identifier())
            .guardrail_version(self.guardrail.version())
            .source(GuardrailContentSource::Input)
            .content(GuardrailContentBlock::Text(block))
            .send()
            .await
            .map_err(|e| from_sdk(e, "ApplyGuardrail"))?;
        verdict(&output)
    }
}

/// Every field of the persona that reaches a prompt, labelled, so each one is assessed.
pub(crate) fn persona_text(persona: &Persona) -> String {
    let mut text = String::new();
    let mut add = |label: &str, value: &str| {
        if !value.trim().is_empty() {
            text.push_str(label);
            text.push_str(": ");
            text.push_str(value);
            text.push('\n');
        }
    };
    add("Name", &persona.name);
    add("Description", &persona.description);
    add("Personality", &persona.personality);
    add("Speaking style", &persona.speaking_style);
    add("Setting", &persona.setting);
    add("Knowledge", &persona.knowledge);
    add("Must not know", &persona.must_not_know);
    add("Greeting", &persona.greeting);
    for line in &persona.example_lines {
        add("Example line", line);
    }
    add(
        "Safety notes",
        persona.safety_notes.as_deref().unwrap_or_default(),
    );
    text
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
