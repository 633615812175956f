//! A [`ChatRequest`] as the pieces of a Converse / ConverseStream call.
//!
//! When a guardrail is configured, the system prompt (which carries the persona) and every
//! user turn go in `guardContent` blocks: once any such block is present Bedrock assesses only
//! those, so a persona left as plain system text would never be checked.

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, GuardrailConfiguration, GuardrailConverseContentBlock,
    GuardrailConverseTextBlock, GuardrailStreamConfiguration, InferenceConfiguration, Message,
    SystemContentBlock,
};
use aws_smithy_types::Document;
use link_core::{ChatMessage, ChatRequest, Error, GenerationParams, Result, Role};
use serde_json::{Value, json};

use crate::Guardrail;
use crate::document::to_document;

/// Everything Converse and ConverseStream share.
#[derive(Debug, Clone)]
pub(crate) struct ConverseParts {
    pub(crate) system: Vec<SystemContentBlock>,
    pub(crate) messages: Vec<Message>,
    pub(crate) inference: Option<InferenceConfiguration>,
    pub(crate) additional: Option<Document>,
}

/// Builds the shared pieces; `guarded` wraps the system prompt and user turns as guard content.
pub(crate) fn converse_parts(
    request: &ChatRequest,
    model_id: &str,
    guarded: bool,
) -> Result<ConverseParts> {
    if request.messages.is_empty() {
        return Err(Error::invalid("a chat request needs at least one message"));
    }
    let system = system_blocks(&request.system, guarded)?;
    let messages = request
        .messages
        .iter()
        .map(|m| message(m, guarded))
        .collect::<Result<Vec<_>>>()?;
    Ok(ConverseParts {
        system,
        messages,
        inference: inference_config(&request.params),
        additional: request
            .params
            .top_k
            .and_then(|k| top_k_fields(model_id, k))
            .map(|v| to_document(&v)),
    })
}

fn system_blocks(system: &str, guarded: bool) -> Result<Vec<SystemContentBlock>> {
    if system.trim().is_empty() {
        return Ok(Vec::new());
    }
    let block = if guarded {
        SystemContentBlock::GuardContent(guard_text(system)?)
    } else {
        SystemContentBlock::Text(system.to_owned())
    };
    Ok(vec![block])
}

fn message(turn: &ChatMessage, guarded: bool) -> Result<Message> {
    let (role, content) = match turn.role {
        Role::User if guarded => (
            ConversationRole::User,
            ContentBlock::GuardContent(guard_text(&turn.content)?),
        ),
        Role::User => (
            ConversationRole::User,
            ContentBlock::Text(turn.content.clone()),
        ),
        Role::Assistant => (
            ConversationRole::Assistant,
            ContentBlock::Text(turn.content.clone()),
        ),
    };
    Message::builder()
        .role(role)
        .content(content)
        .build()
        .map_err(|e| Error::invalid(format!("bad Bedrock message: {e}")))
}

fn guard_text(text: &str) -> Result<GuardrailConverseContentBlock> {
    GuardrailConverseTextBlock::builder()
        .text(text)
        .build()
        .map(GuardrailConverseContentBlock::Text)
        .map_err(|e| Error::invalid(format!("bad Bedrock guard content: {e}")))
}

/// `None` when nothing is set, so Bedrock's defaults apply.
pub(crate) fn inference_config(params: &GenerationParams) -> Option<InferenceConfiguration> {
    let empty = params.max_tokens.is_none()
        && params.temperature.is_none()
        && params.top_p.is_none()
        && params.stop.is_empty();
    if empty {
        return None;
    }
    let mut builder = InferenceConfiguration::builder()
        .set_max_tokens(params.max_tokens.map(clamp_i32))
        .set_temperature(params.temperature)
        .set_top_p(params.top_p);
    for stop in &params.stop {
        builder = builder.stop_sequences(stop);
    }
    Some(builder.build())
}

/// Top-k is not part of Converse's `inferenceConfig`; each model family takes it in its own
/// field. Models whose family is unknown do not get it, rather than failing validation.
pub(crate) fn top_k_fields(model_id: &str, top_k: u32) -> Option<Value> {
    if model_id.contains("nova") {
        Some(json!({ "inferenceConfig": { "topK": top_k } }))
    } else if model_id.contains("anthropic.") {
        Some(json!({ "top_k": top_k }))
    } else {
        tracing::debug!(model_id, "top_k dropped: unknown model family");
        None
    }
}

pub(crate) fn clamp_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The guardrail of a Converse call.
pub(crate) fn guardrail_config(guardrail: &Guardrail) -> GuardrailConfiguration {
    GuardrailConfiguration::builder()
        .guardrail_identifier(guardrail.identifier())
        .guardrail_version(guardrail.version())
        .trace(guardrail.sdk_trace())
        .build()
}

/// The guardrail of a ConverseStream call, with its stream processing mode.
pub(crate) fn guardrail_stream_config(guardrail: &Guardrail) -> GuardrailStreamConfiguration {
    GuardrailStreamConfiguration::builder()
        .guardrail_identifier(guardrail.identifier())
        .guardrail_version(guardrail.version())
        .trace(guardrail.sdk_trace())
        .stream_processing_mode(guardrail.sdk_stream_mode())
        .build()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn request() -> ChatRequest {
        ChatRequest {
            system: "You are Holmes.".into(),
            messages: vec![
                ChatMessage::user("hello"),
                ChatMessage::assistant("Good day."),
                ChatMessage::user("a case?"),
            ],
            params: GenerationParams {
                max_tokens: Some(64),
                top_k: Some(40),
                stop: vec!["END".into()],
                ..GenerationParams::default()
            },
        }
    }

    #[test]
    fn guarded_requests_wrap_the_system_prompt_and_user_turns_only() {
        let parts = converse_parts(&request(), "amazon.nova-micro-v1:0", true).unwrap();
        assert!(matches!(
            parts.system[0],
            SystemContentBlock::GuardContent(_)
        ));
        let kinds: Vec<bool> = parts
            .messages
            .iter()
            .map(|m| matches!(m.content[0], ContentBlock::GuardContent(_)))
            .collect();
        assert_eq!(kinds, [true, false, true]);
    }

    #[test]
    fn unguarded_requests_are_plain_text() {
        let parts = converse_parts(&request(), "amazon.nova-micro-v1:0", false).unwrap();
        assert!(matches!(parts.system[0], SystemContentBlock::Text(_)));
        assert!(
            parts
                .messages
                .iter()
                .all(|m| matches!(m.content[0], ContentBlock::Text(_)))
        );
        let inference = parts.inference.unwrap();
        assert_eq!(inference.max_tokens, Some(64));
        assert_eq!(inference.temperature, None);
        assert_eq!(inference.stop_sequences, Some(vec!["END".to_owned()]));
    }

    #[test]
    fn top_k_goes_where_each_family_reads_it() {
        assert_eq!(
            top_k_fields("us.amazon.nova-micro-v1:0", 5),
            Some(json!({"inferenceConfig": {"topK": 5}}))
        );
        assert_eq!(
            top_k_fields("anthropic.claude-3-haiku-20240307-v1:0", 5),
            Some(json!({"top_k": 5}))
        );
        assert_eq!(top_k_fields("meta.llama3-8b-instruct-v1:0", 5), None);
    }

    #[test]
    fn empty_conversations_and_defaults() {
        let mut empty = request();
        empty.messages.clear();
        assert!(matches!(
            converse_parts(&empty, "m", false),
            Err(Error::InvalidRequest { .. })
        ));
        assert!(inference_config(&GenerationParams::default()).is_none());
        assert_eq!(clamp_i32(u32::MAX), i32::MAX);
    }
}
