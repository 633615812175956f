//! The InvokeModel mode: the Amazon Nova `messages-v1` body, as the reference deployment sent
//! it, with the guardrail in the `X-Amzn-Bedrock-Guardrail*` headers.

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::Trace;
use link_core::{ChatRequest, ChatResponse, Error, GenerationParams, Result, StopReason, Usage};
use serde::{Deserialize, Serialize};

use crate::error::from_sdk;
use crate::response::stop_reason;
use crate::{Guardrail, GuardrailTrace};

/// The request body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NovaRequest<'a> {
    schema_version: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<NovaText<'a>>,
    messages: Vec<NovaMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inference_config: Option<NovaInference<'a>>,
}

#[derive(Debug, Serialize)]
struct NovaText<'a> {
    text: &'a str,
}

#[derive(Debug, Serialize)]
struct NovaMessage<'a> {
    role: &'static str,
    content: Vec<NovaText<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NovaInference<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
}

impl<'a> NovaRequest<'a> {
    pub(crate) fn new(request: &'a ChatRequest) -> Result<Self> {
        if request.messages.is_empty() {
            return Err(Error::invalid("a chat request needs at least one message"));
        }
        let system = if request.system.trim().is_empty() {
            Vec::new()
        } else {
            vec![NovaText {
                text: &request.system,
            }]
        };
        let messages = request
            .messages
            .iter()
            .map(|m| NovaMessage {
                role: m.role.as_str(),
                content: vec![NovaText { text: &m.content }],
            })
            .collect();
        Ok(Self {
            schema_version: "messages-v1",
            system,
            messages,
            inference_config: inference(&request.params),
        })
    }
}

fn inference(params: &GenerationParams) -> Option<NovaInference<'_>> {
    let unset = params.max_tokens.is_none()
        && params.temperature.is_none()
        && params.top_p.is_none()
        && params.top_k.is_none()
        && params.stop.is_empty();
    (!unset).then_some(NovaInference {
        max_tokens: params.max_tokens,
        temperature: params.temperature,
        top_p: params.top_p,
        top_k: params.top_k,
        stop_sequences: &params.stop,
    })
}

/// The response body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NovaResponse {
    output: NovaOutput,
    stop_reason: String,
    usage: Option<NovaUsage>,
    /// Set by Bedrock (`INTERVENED` or `NONE`) when a guardrail was applied.
    #[serde(rename = "amazon-bedrock-guardrailAction")]
    guardrail_action: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NovaOutput {
    message: NovaReply,
}

#[derive(Debug, Deserialize)]
struct NovaReply {
    content: Vec<NovaReplyBlock>,
}

#[derive(Debug, Deserialize)]
struct NovaReplyBlock {
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NovaUsage {
    input_tokens: u64,
    output_tokens: u64,
    total_tokens: Option<u64>,
}

impl NovaResponse {
    pub(crate) fn into_chat_response(self) -> ChatResponse {
        let intervened = self.guardrail_action.as_deref() == Some("INTERVENED");
        let stop_reason = if intervened {
            StopReason::GuardrailIntervened
        } else {
            stop_reason(&self.stop_reason)
        };
        let text = self
            .output
            .message
            .content
            .into_iter()
            .filter_map(|b| b.text)
            .collect();
        let usage = self.usage.map(|u| Usage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            // Saturating: the counts come from the response, and an absurd pair must not panic.
            total_tokens: u
                .total_tokens
                .unwrap_or(u.input_tokens.saturating_add(u.output_tokens)),
        });
        ChatResponse {
            text,
            stop_reason,
            usage,
        }
    }
}

/// Calls InvokeModel with the Nova body.
pub(crate) async fn invoke(
    client: &Client,
    model_id: &str,
    guardrail: Option<&Guardrail>,
    request: &ChatRequest,
) -> Result<ChatResponse> {
    let body = serde_json::to_vec(&NovaRequest::new(request)?)
        .map_err(|e| Error::invalid(format!("the Nova body could not be encoded: {e}")))?;
    let call = client
        .invoke_model()
        .model_id(model_id)
        .content_type("application/json")
        .accept("application/json")
        .body(Blob::new(body));
    let call = match guardrail {
        Some(g) => call
            .guardrail_identifier(g.identifier())
            .guardrail_version(g.version())
            .trace(trace(g.trace())),
        None => call,
    };
    let output = call.send().await.map_err(|e| from_sdk(e, "InvokeModel"))?;
    let reply: NovaResponse =
        serde_json::from_slice(output.body.as_ref()).map_err(|e| Error::MalformedOutput {
            message: format!("the Nova InvokeModel reply does not parse: {e}"),
        })?;
    let reply = reply.into_chat_response();
    if reply.stop_reason == StopReason::GuardrailIntervened {
        tracing::info!("Bedrock guardrail intervened on InvokeModel");
    }
    Ok(reply)
}

fn trace(trace: GuardrailTrace) -> Trace {
    match trace {
        GuardrailTrace::Disabled => Trace::Disabled,
        GuardrailTrace::Enabled => Trace::Enabled,
        GuardrailTrace::EnabledFull => Trace::EnabledFull,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use link_core::ChatMessage;
    use serde_json::json;

    use super::*;

    #[test]
    fn the_body_is_nova_messages_v1() {
        let request = ChatRequest {
            system: "You are Ada.".into(),
            messages: vec![
                ChatMessage::user("hi"),
                ChatMessage::assistant("Hello."),
                ChatMessage::user("engines?"),
            ],
            params: GenerationParams {
                max_tokens: Some(512),
                top_k: Some(50),
                ..Default::default()
            },
        };
        let body = serde_json::to_value(NovaRequest::new(&request).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({
                "schemaVersion": "messages-v1",
                "system": [{"text": "You are Ada."}],
                "messages": [
                    {"role": "user", "content": [{"text": "hi"}]},
                    {"role": "assistant", "content": [{"text": "Hello."}]},
                    {"role": "user", "content": [{"text": "engines?"}]}
                ],
                "inferenceConfig": {"maxTokens": 512, "topK": 50}
            })
        );
    }

    #[test]
    fn replies_and_interventions_parse() {
        let ok: NovaResponse = serde_json::from_value(json!({
            "output": {"message": {"role": "assistant", "content": [{"text": "Hi!"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 4, "outputTokens": 2, "totalTokens": 6}
        }))
        .unwrap();
        let ok = ok.into_chat_response();
        assert_eq!(
            (ok.text.as_str(), ok.usage),
            ("Hi!", Some(Usage::new(4, 2)))
        );

        let blocked: NovaResponse = serde_json::from_value(json!({
            "output": {"message": {"role": "assistant", "content": [{"text": "Blocked."}]}},
            "stopReason": "end_turn",
            "amazon-bedrock-guardrailAction": "INTERVENED"
        }))
        .unwrap();
        let blocked = blocked.into_chat_response();
        assert_eq!(blocked.stop_reason, StopReason::GuardrailIntervened);
        assert_eq!(blocked.usage, None);
    }
}
