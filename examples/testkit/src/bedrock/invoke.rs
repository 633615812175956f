//! InvokeModel with Amazon Nova's `messages-v1` body and the guardrail headers.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::converse::{guardrail_trace, texts, usage};
use super::errors::{error, scripted_error};
use super::server::{MockState, receive};
use super::{BLOCKED, TRIGGER};

/// Checks a Nova `messages-v1` body; returns the last user text.
fn check_nova(body: &Value) -> Result<String, String> {
    if body["schemaVersion"] != "messages-v1" {
        return Err("schemaVersion must be messages-v1".into());
    }
    let messages = body["messages"].as_array().ok_or("messages missing")?;
    for message in messages {
        let content = message["content"].as_array().ok_or("content missing")?;
        if content.iter().any(|b| !b["text"].is_string()) {
            return Err("Nova content blocks are {text}".into());
        }
    }
    if body["system"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|b| !b["text"].is_string())
    {
        return Err("Nova system blocks are {text}".into());
    }
    if let Some(config) = body.get("inferenceConfig") {
        let known = ["maxTokens", "temperature", "topP", "topK", "stopSequences"];
        if let Some(key) = config
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .find(|k| !known.contains(&k.as_str()))
        {
            return Err(format!("unknown inferenceConfig key {key}"));
        }
    }
    let last = messages.last().ok_or("no messages")?;
    Ok(texts(&last["content"]).join(" "))
}

/// `POST /model/{model}/invoke` (Nova's `messages-v1` body).
pub async fn invoke(
    State(state): State<Arc<MockState>>,
    Path(model): Path<String>,
    request: Request,
) -> Response {
    let (count, body, headers) = match receive(&state, "invoke", &model, request).await {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    if let Some(response) = scripted_error(&model, count) {
        return response;
    }
    let last = match check_nova(&body) {
        Ok(last) => last,
        Err(problem) => return error(400, "ValidationException", &problem),
    };
    let guard_id = headers.get("x-amzn-bedrock-guardrailidentifier");
    let guard_version = headers.get("x-amzn-bedrock-guardrailversion");
    if guard_id.is_some() != guard_version.is_some() {
        return error(
            400,
            "ValidationException",
            "guardrail identifier and version go together",
        );
    }
    let all_text = body.to_string();
    if guard_id.is_some() && all_text.contains(TRIGGER) {
        return axum::Json(json!({
            "output": { "message": { "role": "assistant", "content": [{ "text": BLOCKED }] } },
            "stopReason": "guardrail_intervened",
            "usage": usage(&last, BLOCKED),
            "amazon-bedrock-guardrailAction": "INTERVENED",
            "amazon-bedrock-trace": guardrail_trace(),
        }))
        .into_response();
    }
    let reply = format!("You said: {last}");
    axum::Json(json!({
        "output": { "message": { "role": "assistant", "content": [{ "text": reply }] } },
        "stopReason": "end_turn",
        "usage": usage(&last, &reply),
    }))
    .into_response()
}
