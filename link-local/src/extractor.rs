//! [`LocalPersonaExtractor`]: a persona from the local model, written under a grammar: a
//! character sheet of five labelled lines for a small model, the whole persona as JSON for a
//! larger one.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use link_core::persona::validate_request;
use link_core::prompt::PromptStyle;
use link_core::{
    ChatEvent, ChatMessage, ChatModel, ChatRequest, Error, GenerationParams, Persona,
    PersonaExtractor, Result, StopReason, extraction,
};

use crate::LocalModel;
use crate::grammar::{max_example_lines, persona_grammar};
use crate::sheet::sheet_grammar;

/// Enough tokens for the longest persona the grammar allows, so it is never cut off.
const PERSONA_MAX_TOKENS: u32 = 1200;

/// Enough tokens for the longest character sheet the grammar allows (760 characters of
/// values, at worst one token each, and the labels).
const SHEET_MAX_TOKENS: u32 = 800;

/// How the model is asked for a persona, by its prompt style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    /// The whole persona as JSON, with the core instructions (a model that follows them).
    Json,
    /// A character sheet of five labelled lines (a small model); the rest is derived.
    Sheet,
}

/// The system text of every extraction: the core instructions, then a sentence for the small
/// model. The grammar bounds each field well inside the limits the core text names (a small
/// model on a CPU budget), so the model is told to keep short rather than be cut off
/// mid-sentence by the grammar.
fn instructions() -> String {
    format!(
        "{}\nKeep every field short, a sentence or two, with at most {} example lines.",
        extraction::instructions(),
        max_example_lines()
    )
}

/// A [`PersonaExtractor`] on a [`LocalModel`]: the output is constrained by a grammar, so it
/// always parses. How the model is asked follows its [`ChatModel::prompt_style`]: a small model
/// (the compact style) writes a character sheet of the five fields that make the character
/// ([`extraction::SHEET`]) and the rest is derived or left empty; a larger one writes the whole
/// persona as JSON under a grammar made from the core extraction schema. The persona is
/// returned as the model wrote it, with only what a small model gets wrong repaired; the
/// engine normalises and validates it ([`Persona::validated`]).
///
/// ```no_run
/// # async fn demo() -> link_core::Result<()> {
/// use link_core::PersonaExtractor;
/// use link_local::{LocalConfig, LocalModel, LocalPersonaExtractor};
///
/// let model = LocalModel::load_async(LocalConfig::from_env()).await?;
/// let extractor = LocalPersonaExtractor::new(model)?;
/// let persona = extractor.extract("Sherlock Holmes").await?.validated()?;
/// assert!(!persona.greeting.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LocalPersonaExtractor {
    model: LocalModel,
    strategy: Strategy,
    grammar: Arc<str>,
    params: GenerationParams,
}

impl LocalPersonaExtractor {
    /// An extractor on `model` (shares its workers with chat).
    pub fn new(model: LocalModel) -> Result<Self> {
        let (strategy, grammar, max_tokens) = match model.prompt_style() {
            PromptStyle::Compact => (Strategy::Sheet, sheet_grammar(), SHEET_MAX_TOKENS),
            _ => (Strategy::Json, persona_grammar()?, PERSONA_MAX_TOKENS),
        };
        Ok(Self {
            model,
            strategy,
            grammar: grammar.into(),
            params: GenerationParams {
                max_tokens: Some(max_tokens),
                // Low temperature: facts about a known character, not creativity.
                temperature: Some(0.3),
                ..GenerationParams::default()
            },
        })
    }

    /// The GBNF grammar the output follows.
    pub fn grammar(&self) -> &str {
        &self.grammar
    }

    /// The chat request sent to the model for a character `request` (the instructions, the
    /// request and the generation settings); the output is then constrained by
    /// [`grammar`](Self::grammar). For logging, inspection and benchmarks.
    ///
    /// ```no_run
    /// # async fn demo() -> link_core::Result<()> {
    /// use link_local::{LocalConfig, LocalModel, LocalPersonaExtractor};
    ///
    /// let extractor = LocalPersonaExtractor::new(LocalModel::load_async(LocalConfig::from_env()).await?)?;
    /// let request = extractor.chat_request("Sherlock Holmes");
    /// assert!(request.messages.last().unwrap().content.contains("Sherlock Holmes"));
    /// # Ok(()) }
    /// ```
    pub fn chat_request(&self, request: &str) -> ChatRequest {
        match self.strategy {
            Strategy::Json => extraction_request(request, self.params.clone()),
            Strategy::Sheet => sheet_request(request, self.params.clone()),
        }
    }

    async fn generate(&self, request: &str) -> Result<String> {
        let request = self.chat_request(request);
        let mut stream = self
            .model
            .stream_with_grammar(request, Arc::clone(&self.grammar))
            .await?;
        let mut written = String::new();
        while let Some(event) = stream.next().await {
            match event? {
                ChatEvent::Delta { text } => written.push_str(&text),
                ChatEvent::Done {
                    stop_reason: StopReason::MaxTokens,
                    ..
                } => {
                    return Err(Error::Truncated {
                        message: "the persona hit the local model's token limit".into(),
                    });
                }
                ChatEvent::Done { .. } => return Ok(written),
                _ => {}
            }
        }
        Err(crate::generate::failure(
            "the persona stream ended early".into(),
        ))
    }
}

#[async_trait]
impl PersonaExtractor for LocalPersonaExtractor {
    async fn extract(&self, request: &str) -> Result<Persona> {
        let request = validate_request(request)?;
        let text = self.generate(request).await?;
        match self.strategy {
            Strategy::Json => parse_persona(&text, request),
            Strategy::Sheet => extraction::parse_sheet(&text, request),
        }
    }

    fn model_id(&self) -> String {
        self.model.inner_id()
    }
}

/// The chat request of an extraction: the instructions and the character request.
fn extraction_request(request: &str, params: GenerationParams) -> ChatRequest {
    ChatRequest {
        system: instructions(),
        messages: vec![ChatMessage::user(format!("Character request: {request}"))],
        params,
    }
}

/// The chat request of a sheet extraction: the sheet instructions, the example exchange and
/// the character request.
fn sheet_request(request: &str, params: GenerationParams) -> ChatRequest {
    ChatRequest {
        system: extraction::SHEET_INSTRUCTIONS.to_owned(),
        messages: extraction::sheet_turns(request),
        params,
    }
}

/// Parses the model's JSON and repairs what a small model gets wrong but the grammar cannot
/// rule out: control characters written as escapes, and blank required fields. Nothing else
/// is changed (the engine trims and checks the bounds).
pub(crate) fn parse_persona(json: &str, request: &str) -> Result<Persona> {
    let mut persona: Persona = serde_json::from_str(json).map_err(|e| Error::MalformedOutput {
        message: format!("the local model's persona JSON does not parse: {e}"),
    })?;
    for field in [
        &mut persona.name,
        &mut persona.description,
        &mut persona.personality,
        &mut persona.speaking_style,
        &mut persona.setting,
        &mut persona.knowledge,
        &mut persona.must_not_know,
        &mut persona.greeting,
    ] {
        strip_controls(field);
    }
    persona.example_lines.iter_mut().for_each(strip_controls);
    if let Some(notes) = &mut persona.safety_notes {
        strip_controls(notes);
    }
    if persona.name.trim().is_empty() {
        persona.name = request
            .chars()
            .take(link_core::persona::limits::NAME)
            .collect();
    }
    let name = persona.name.trim();
    if persona.greeting.trim().is_empty() {
        persona.greeting = format!("Hello. I am {name}.");
    }
    if persona.description.trim().is_empty() {
        persona.description = format!("{name} ({request}).");
    }
    Ok(persona)
}

fn strip_controls(text: &mut String) {
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        text.retain(|c| !c.is_control() || c == '\n' || c == '\t');
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const JSON: &str = r#"{"name":" ","kind":"fictional","living":null,"description":"A sleuth.\u0007",
        "personality":"sharp","speaking_style":"crisp","setting":"London","knowledge":"crime",
        "must_not_know":"phones","greeting":"  ","example_lines":["Elementary."],"safety_notes":null}"#;

    #[test]
    fn blank_fields_are_filled_and_controls_removed() {
        let p = parse_persona(JSON, "Sherlock Holmes").unwrap();
        assert_eq!(p.name, "Sherlock Holmes");
        assert_eq!(p.description, "A sleuth.");
        assert_eq!(p.greeting, "Hello. I am Sherlock Holmes.");
        p.validated().unwrap();
    }

    #[test]
    fn an_invalid_persona_is_returned_for_the_engine_to_refuse() {
        let long = "x".repeat(link_core::persona::limits::TRAIT + 1);
        let json = JSON.replace("\"sharp\"", &format!("\"{long}\""));
        let p = parse_persona(&json, "Sherlock Holmes").unwrap();
        let Err(Error::InvalidPersona { problems }) = p.validated() else {
            panic!("the engine's check refuses the long personality")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn the_request_sends_the_core_instructions_and_one_sentence_for_a_small_model() {
        let request = extraction_request("Sherlock Holmes", GenerationParams::default());
        let suffix = request
            .system
            .strip_prefix(extraction::instructions())
            .unwrap();
        assert_eq!(
            suffix,
            format!(
                "\nKeep every field short, a sentence or two, with at most {} example lines.",
                max_example_lines()
            )
        );
        assert_eq!(max_example_lines(), 3);
    }

    #[test]
    fn a_sheet_request_sends_the_sheet_instructions_and_the_example() {
        let params = GenerationParams::default();
        let request = sheet_request("Sherlock Holmes", params.clone());
        assert_eq!(request.system, extraction::SHEET_INSTRUCTIONS);
        assert_eq!(request.messages, extraction::sheet_turns("Sherlock Holmes"));
        assert_eq!(request.params, params);
    }

    #[test]
    fn broken_json_is_malformed_output() {
        let err = parse_persona("{\"name\":", "x").unwrap_err();
        assert!(matches!(err, Error::MalformedOutput { .. }), "{err:?}");
    }
}
