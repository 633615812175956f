//! [`BedrockPersonaExtractor`]: a persona through Converse tool use, so that an all-AWS
//! deployment needs no other provider.
//!
//! The model is given one tool whose input schema is the core extraction schema
//! ([`extraction::schema`]) in the form tool use understands, and is forced to call it
//! (`toolChoice: {tool: {name}}`); the tool call's input is the persona, returned as the model
//! wrote it (the engine normalises and validates it).

use async_trait::async_trait;
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, InferenceConfiguration, Message, SpecificToolChoice,
    SystemContentBlock, Tool, ToolChoice, ToolConfiguration, ToolInputSchema, ToolSpecification,
};
use link_core::{Error, Persona, PersonaExtractor, Result, StopReason, extraction};
use serde_json::Value;

use crate::config::validate_model_id;
use crate::document::{to_document, to_json};
use crate::error::from_sdk;
use crate::response::{message, stop_reason};
use crate::{DEFAULT_MODEL, GuardrailCheck};

/// The name of the one tool the model must call.
pub const PERSONA_TOOL: &str = "record_persona";

/// Appended to the core instructions: they ask for "the JSON schema", which on Bedrock is
/// the input of a tool, so the model is told which tool to call and that the persona goes in
/// its input (some models otherwise answer in text before or instead of the call).
const TOOL_INSTRUCTION: &str =
    "Call the record_persona tool exactly once, with the persona as its input.";

/// The system text of every extraction: the core instructions and [`TOOL_INSTRUCTION`].
fn instructions() -> String {
    format!("{}\n{TOOL_INSTRUCTION}", extraction::instructions())
}

/// A [`PersonaExtractor`] on Amazon Bedrock through Converse tool use.
///
/// ```no_run
/// use link_bedrock::BedrockPersonaExtractor;
/// use link_core::PersonaExtractor;
///
/// # async fn demo() -> link_core::Result<()> {
/// let extractor = BedrockPersonaExtractor::from_env().await;
/// let persona = extractor.extract("Ada Lovelace").await?;
/// assert!(persona.is_real_person());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BedrockPersonaExtractor {
    client: Client,
    model_id: String,
    max_tokens: u32,
    check: Option<GuardrailCheck>,
}

impl BedrockPersonaExtractor {
    /// An extractor on `client` with [`DEFAULT_MODEL`].
    pub fn new(client: Client) -> Self {
        Self {
            client,
            model_id: DEFAULT_MODEL.to_owned(),
            max_tokens: 2000,
            check: None,
        }
    }

    /// An extractor on a client built from the standard AWS chain.
    pub async fn from_env() -> Self {
        Self::new(crate::client_from_env().await)
    }

    /// Uses another model id, inference profile id or ARN (it must support tool use).
    pub fn with_model(mut self, model_id: impl Into<String>) -> Result<Self> {
        let model_id = model_id.into();
        validate_model_id(&model_id)?;
        self.model_id = model_id;
        Ok(self)
    }

    /// Caps the tokens of the tool call (default 2000).
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Checks every extracted persona with ApplyGuardrail before it is accepted.
    pub fn with_check(mut self, check: GuardrailCheck) -> Self {
        self.check = Some(check);
        self
    }

    fn tool_config() -> Result<ToolConfiguration> {
        let spec = ToolSpecification::builder()
            .name(PERSONA_TOOL)
            .description("Records the persona of the requested character.")
            .input_schema(ToolInputSchema::Json(to_document(&persona_schema())))
            .build()
            .map_err(build_error)?;
        let choice = SpecificToolChoice::builder()
            .name(PERSONA_TOOL)
            .build()
            .map_err(build_error)?;
        ToolConfiguration::builder()
            .tools(Tool::ToolSpec(spec))
            .tool_choice(ToolChoice::Tool(choice))
            .build()
            .map_err(build_error)
    }
}

/// The tool's input schema: [`extraction::schema`] (already without `$ref`, which some models
/// do not resolve in tool schemas) without the document keys a tool schema does not need, and
/// with its enums in the plain form every model's tool use understands.
pub fn persona_schema() -> Value {
    let mut value = extraction::schema();
    if let Some(object) = value.as_object_mut() {
        // Only prompt tokens to the model.
        object.remove("$schema");
        object.remove("title");
    }
    simplify_enums(&mut value);
    value
}

/// Rewrites `oneOf` lists of string constants (how schemars describes documented enums) as a
/// plain `enum` with the variant docs folded into the description, the form every model's
/// tool use understands.
fn simplify_enums(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let consts: Option<Vec<(Value, Option<String>)>> = object
                .get("oneOf")
                .and_then(Value::as_array)
                .and_then(|variants| {
                    variants
                        .iter()
                        .map(|v| {
                            let doc = v.get("description").and_then(Value::as_str);
                            v.get("const").map(|c| (c.clone(), doc.map(str::to_owned)))
                        })
                        .collect()
                });
            if let Some(consts) = consts {
                object.remove("oneOf");
                let mut description = object
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                for (name, doc) in &consts {
                    if let (Some(name), Some(doc)) = (name.as_str(), doc) {
                        description.push_str(&format!(" {name}: {doc}"));
                    }
                }
                object.insert("type".into(), Value::from("string"));
                object.insert("description".into(), Value::from(description.trim()));
                let names = consts.into_iter().map(|(name, _)| name).collect();
                object.insert("enum".into(), Value::Array(names));
            }
            object.values_mut().for_each(simplify_enums);
        }
        Value::Array(items) => items.iter_mut().for_each(simplify_enums),
        _ => {}
    }
}

fn build_error(e: impl std::fmt::Display) -> Error {
    Error::invalid(format!(
        "the Bedrock tool-use request could not be built: {e}"
    ))
}

#[async_trait]
impl PersonaExtractor for BedrockPersonaExtractor {
    async fn extract(&self, request: &str) -> Result<Persona> {
        let request = link_core::persona::validate_request(request)?;
        let user = Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::Text(request.to_owned()))
            .build()
            .map_err(build_error)?;
        let output = self
            .client
            .converse()
            .model_id(&self.model_id)
            .system(SystemContentBlock::Text(instructions()))
            .messages(user)
            .inference_config(
                InferenceConfiguration::builder()
                    .max_tokens(crate::request::clamp_i32(self.max_tokens))
                    .temperature(0.3)
                    .build(),
            )
            .tool_config(Self::tool_config()?)
            .send()
            .await
            .map_err(|e| from_sdk(e, "Converse"))?;
        let persona = persona_from(&output)?;
        if let Some(check) = &self.check {
            check.check_persona(&persona).await?;
        }
        Ok(persona)
    }

    fn model_id(&self) -> String {
        self.model_id.clone()
    }
}

/// The persona in a Converse reply, as the model wrote it.
pub(crate) fn persona_from(output: &ConverseOutput) -> Result<Persona> {
    let reason = stop_reason(output.stop_reason.as_str());
    let reply = message(output)?;
    let input = reply.content.iter().find_map(|block| match block {
        ContentBlock::ToolUse(tool) if tool.name == PERSONA_TOOL => Some(&tool.input),
        _ => None,
    });
    let text = crate::response::text(reply);
    match (reason, input) {
        (StopReason::MaxTokens, _) => Err(Error::Truncated {
            message: "the persona tool call hit the token limit".into(),
        }),
        (StopReason::GuardrailIntervened, _) => Err(Error::GuardrailBlocked { message: text }),
        (StopReason::ContentFiltered, _) => Err(Error::ContentFiltered { message: text }),
        (_, None) => Err(Error::MalformedOutput {
            message: format!("the model did not call {PERSONA_TOOL}"),
        }),
        (_, Some(input)) => {
            serde_json::from_value(to_json(input)).map_err(|e| Error::MalformedOutput {
                message: format!("the {PERSONA_TOOL} input is not a persona: {e}"),
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_inlined_and_names_every_field() {
        let schema = persona_schema();
        let text = schema.to_string();
        assert!(!text.contains("$ref"), "{text}");
        assert!(schema.get("$schema").is_none());
        let props = schema["properties"].as_object().unwrap();
        for field in ["name", "kind", "living", "greeting", "example_lines"] {
            assert!(props.contains_key(field), "{field}");
        }
        assert!(!props.contains_key("card_extensions"));
        assert_eq!(
            props["kind"]["enum"],
            serde_json::json!([
                "fictional",
                "historical",
                "real_person",
                "original",
                "archetype"
            ])
        );
        let kind_doc = props["kind"]["description"].as_str().unwrap();
        assert!(
            kind_doc.contains("real_person: A real person"),
            "{kind_doc}"
        );
        assert!(!text.contains("oneOf"), "{text}");
    }

    #[test]
    fn the_schema_has_the_core_fields_and_descriptions() {
        let core = extraction::schema();
        let tool = persona_schema();
        assert_eq!(tool["description"], core["description"]);
        assert_eq!(
            tool["required"], core["required"],
            "same fields, same order"
        );
        let core_props = core["properties"].as_object().unwrap();
        let tool_props = tool["properties"].as_object().unwrap();
        assert_eq!(
            tool_props.keys().collect::<Vec<_>>(),
            core_props.keys().collect::<Vec<_>>()
        );
        for (name, field) in tool_props {
            let doc = field["description"].as_str().unwrap();
            let core_doc = core_props[name]["description"].as_str().unwrap();
            assert!(doc.starts_with(core_doc), "{name}: {doc}");
        }
    }

    #[test]
    fn the_instructions_are_the_core_ones_and_name_the_tool() {
        let text = instructions();
        let suffix = text.strip_prefix(extraction::instructions()).unwrap();
        assert_eq!(suffix, format!("\n{TOOL_INSTRUCTION}"));
        assert!(
            TOOL_INSTRUCTION.contains(PERSONA_TOOL),
            "{TOOL_INSTRUCTION}"
        );
    }

    #[test]
    fn the_tool_is_forced() {
        let config = BedrockPersonaExtractor::tool_config().unwrap();
        assert_eq!(config.tools.len(), 1);
        let Some(ToolChoice::Tool(choice)) = config.tool_choice else {
            panic!("the tool choice must name the tool")
        };
        assert_eq!(choice.name, PERSONA_TOOL);
    }
}
