//! [`OpenAiPersonaExtractor`]: free text to a [`Persona`] with structured outputs.

use async_trait::async_trait;
use link_core::persona::validate_request;
use link_core::{Error, Persona, PersonaExtractor, Result, extraction};
use serde_json::{Value, json};

use crate::config::OpenAiConfig;
use crate::schema::make_strict;
use crate::transport::Transport;
use crate::wire::{Completion, CompletionRequest, WireMessage};

/// The `json_schema.name` sent with every extraction.
pub const SCHEMA_NAME: &str = "persona";

/// Token limit of an extraction by default: a persona at every field's limit is about
/// 11,000 characters, under 4,000 tokens.
pub const DEFAULT_EXTRACTION_MAX_TOKENS: u32 = 4096;

/// Turns a request ("Ada Lovelace", "a grumpy pirate who loves cats") into a [`Persona`] with
/// OpenAI structured outputs: the system message is [`extraction::instructions`], the
/// `response_format` is `json_schema` with `strict: true` and [`extraction::schema`] made
/// strict by [`make_strict`].
///
/// Outcomes, each a distinct error:
/// - the model refuses (`message.refusal`): [`Error::Refusal`];
/// - `finish_reason: length` (the JSON is cut off, never parsed): [`Error::Truncated`];
/// - `finish_reason: content_filter`: [`Error::ContentFiltered`];
/// - output that is not a persona's JSON: [`Error::MalformedOutput`].
///
/// The persona is returned as the model wrote it: the engine normalises and validates it
/// ([`Persona::validated`]), as it does every persona.
///
/// ```no_run
/// use link_core::PersonaExtractor;
/// use link_openai::{OpenAiConfig, OpenAiPersonaExtractor};
///
/// # async fn demo() -> link_core::Result<()> {
/// let extractor = OpenAiPersonaExtractor::new(OpenAiConfig::from_env()?)?;
/// let persona = extractor.extract("Ada Lovelace").await?;
/// assert!(persona.is_real_person());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiPersonaExtractor {
    transport: Transport,
    response_format: Value,
    max_tokens: Option<u32>,
}

impl OpenAiPersonaExtractor {
    /// An extractor with this configuration. Fails only if the persona schema cannot be
    /// expressed in strict mode (a bug, caught by this crate's tests).
    pub fn new(config: OpenAiConfig) -> Result<Self> {
        let schema = make_strict(extraction::schema())?;
        Ok(Self {
            transport: Transport::new(config),
            response_format: json!({
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "strict": true, "schema": schema},
            }),
            max_tokens: Some(DEFAULT_EXTRACTION_MAX_TOKENS),
        })
    }

    /// Sets the token limit of an extraction (`None`: the server's default).
    pub fn with_max_tokens(mut self, max_tokens: Option<u32>) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// The `response_format` sent with every request.
    pub fn response_format(&self) -> &Value {
        &self.response_format
    }

    fn body<'a>(&'a self, instructions: &'a str, request: &'a str) -> CompletionRequest<'a> {
        let config = &self.transport.config;
        let messages = vec![
            WireMessage::new("system", instructions),
            WireMessage::new("user", request),
        ];
        let mut body = CompletionRequest::new(config, messages);
        body.set_max_tokens(config.max_tokens_param, self.max_tokens);
        body.response_format = Some(self.response_format.clone());
        body
    }
}

#[async_trait]
impl PersonaExtractor for OpenAiPersonaExtractor {
    async fn extract(&self, request: &str) -> Result<Persona> {
        let request = validate_request(request)?;
        let body = self.body(extraction::instructions(), request);
        let response = self.transport.post_chat(&body, false).await?;
        let completion: Completion = self.transport.read_json(response).await?;
        persona_from(completion)
    }

    fn model_id(&self) -> String {
        self.transport.config.model.clone()
    }
}

/// Checks a completion in the order that keeps each failure distinct: a refusal first (its
/// `content` is null), then the finish reason (a cut-off JSON is never parsed), then the JSON.
fn persona_from(completion: Completion) -> Result<Persona> {
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| Error::MalformedOutput {
            message: "the completion has no choices".into(),
        })?;
    let message = choice.message.unwrap_or_default();
    if let Some(refusal) = message.refusal.filter(|r| !r.trim().is_empty()) {
        return Err(Error::Refusal { message: refusal });
    }
    match choice.finish_reason.as_deref() {
        Some("length") => {
            return Err(Error::Truncated {
                message: "the persona JSON hit the token limit".into(),
            });
        }
        Some("content_filter") => {
            return Err(Error::ContentFiltered {
                message: "OpenAI's content filter stopped the persona".into(),
            });
        }
        _ => {}
    }
    let content = message
        .content
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| Error::MalformedOutput {
            message: "the completion has no content".into(),
        })?;
    serde_json::from_str(&content).map_err(|e| Error::MalformedOutput {
        message: format!("the output is not a persona: {e}"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn completion(message: Value, finish_reason: &str) -> Completion {
        serde_json::from_value(json!({
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}]
        }))
        .unwrap()
    }

    #[test]
    fn refusal_wins_over_everything() {
        let c = completion(
            json!({"content": null, "refusal": "I can't help with that."}),
            "stop",
        );
        assert!(matches!(persona_from(c), Err(Error::Refusal { .. })));
    }

    #[test]
    fn truncated_json_is_never_parsed() {
        let c = completion(json!({"content": "{\"name\": \"Ada"}), "length");
        assert!(matches!(persona_from(c), Err(Error::Truncated { .. })));
    }

    #[test]
    fn no_choices_is_malformed() {
        let c: Completion = serde_json::from_value(json!({"choices": []})).unwrap();
        assert!(matches!(
            persona_from(c),
            Err(Error::MalformedOutput { .. })
        ));
    }

    #[test]
    fn the_persona_is_returned_as_written_for_the_engine_to_validate() {
        let mut persona = serde_json::to_value(link_core::Persona::new(
            "  Ada Lovelace ",
            link_core::PersonaKind::Historical,
            "Mathematician.",
            "Good day.",
        ))
        .unwrap();
        persona["greeting"] = json!("x".repeat(link_core::persona::limits::GREETING + 1));
        let c = completion(json!({"content": persona.to_string()}), "stop");
        let written = persona_from(c).unwrap();
        assert_eq!(written.name, "  Ada Lovelace ", "not normalised here");
        let Err(Error::InvalidPersona { problems }) = written.validated() else {
            panic!("the engine's check refuses the long greeting")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
    }
}
