//! Converse and ConverseStream: the request checked as Bedrock checks it, the guardrail
//! assessing only guard content, replies whole or as event-stream frames.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::{CUT_MID_FRAME, SPLIT_FRAMES, STREAM_THROTTLE, error, scripted_error};
use super::frames::{Framing, event_stream, frame, pieces};
use super::server::{MockState, receive};
use super::{BLOCKED, TRIGGER};
use crate::openai::reply::pause;

/// The texts of content blocks, plain or guard content.
pub fn texts(blocks: &Value) -> Vec<String> {
    blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| {
            b.pointer("/text")
                .or_else(|| b.pointer("/guardContent/text/text"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

/// Checks a Converse / ConverseStream body; returns the last user text.
fn check_converse(body: &Value, streaming: bool) -> Result<String, String> {
    let messages = body["messages"].as_array().ok_or("messages missing")?;
    if messages.is_empty() || messages[0]["role"] != "user" {
        return Err("messages must start with a user turn".into());
    }
    let guard = &body["guardrailConfig"];
    let guarded = !guard.is_null();
    if guarded {
        for key in ["guardrailIdentifier", "guardrailVersion", "trace"] {
            if !guard[key].is_string() {
                return Err(format!("guardrailConfig.{key} missing"));
            }
        }
        let mode = guard["streamProcessingMode"].as_str();
        match (streaming, mode) {
            (true, Some("sync" | "async")) | (false, None) => {}
            _ => return Err(format!("bad streamProcessingMode {mode:?}")),
        }
    }
    for (i, message) in messages.iter().enumerate() {
        let expected = if i % 2 == 0 { "user" } else { "assistant" };
        if message["role"] != expected {
            return Err(format!("message {i} should be {expected}"));
        }
        let blocks = message["content"].as_array().ok_or("content missing")?;
        for block in blocks {
            let is_guard = block.get("guardContent").is_some();
            let should_guard = guarded && expected == "user";
            if is_guard != should_guard {
                return Err(format!(
                    "message {i}: guardContent {is_guard}, expected {should_guard}"
                ));
            }
        }
    }
    for block in body["system"].as_array().into_iter().flatten() {
        if guarded != block.get("guardContent").is_some() {
            return Err("the system prompt must be guard content exactly when guarded".into());
        }
    }
    if let Some(max) = body.pointer("/inferenceConfig/maxTokens")
        && max.as_u64().is_none_or(|m| m == 0)
    {
        return Err("inferenceConfig.maxTokens must be a positive integer".into());
    }
    Ok(messages
        .last()
        .map(|m| texts(&m["content"]).join(" "))
        .unwrap_or_default())
}

/// Whether the mock guardrail blocks: it reads only guard content, as Bedrock does.
fn guardrail_blocks(body: &Value) -> bool {
    let guarded = |blocks: &Value| {
        blocks.as_array().into_iter().flatten().any(|b| {
            b.pointer("/guardContent/text/text")
                .and_then(Value::as_str)
                .is_some_and(|t| t.contains(TRIGGER))
        })
    };
    guarded(&body["system"])
        || body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| guarded(&m["content"]))
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Usage billed a word a token (at least one each way).
pub fn usage(input: &str, output: &str) -> Value {
    let (i, o) = (words(input).max(1), words(output).max(1));
    json!({ "inputTokens": i, "outputTokens": o, "totalTokens": i + o })
}

/// The trace of the mock guardrail's intervention.
pub fn guardrail_trace() -> Value {
    json!({ "guardrail": { "inputAssessment": { "gr-test": { "topicPolicy": { "topics": [
        { "name": "Forbidden", "type": "DENY", "action": "BLOCKED" }
    ] } } } } })
}

/// `POST /model/{model}/converse`.
pub async fn converse(
    State(state): State<Arc<MockState>>,
    Path(model): Path<String>,
    request: Request,
) -> Response {
    let (count, body, _) = match receive(&state, "converse", &model, request).await {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    if let Some(response) = scripted_error(&model, count) {
        return response;
    }
    if body.get("toolConfig").is_some() {
        return super::persona::extract(&body);
    }
    let last = match check_converse(&body, false) {
        Ok(last) => last,
        Err(problem) => return error(400, "ValidationException", &problem),
    };
    pause(state.setup.first).await;
    if guardrail_blocks(&body) {
        return axum::Json(json!({
            "output": { "message": { "role": "assistant", "content": [{ "text": BLOCKED }] } },
            "stopReason": "guardrail_intervened",
            "usage": usage(&last, BLOCKED),
            "metrics": { "latencyMs": 3 },
            "trace": guardrail_trace(),
        }))
        .into_response();
    }
    let reply = (state.setup.speaker)(&last).concat();
    axum::Json(json!({
        "output": { "message": { "role": "assistant", "content": [{ "text": reply }] } },
        "stopReason": "end_turn",
        "usage": usage(&last, &reply),
        "metrics": { "latencyMs": state.setup.first.as_millis() },
    }))
    .into_response()
}

fn text_frames(pieces: &[String]) -> Vec<Bytes> {
    let mut frames = vec![frame(
        "event",
        "messageStart",
        &json!({ "role": "assistant" }),
    )];
    for piece in pieces {
        frames.push(frame(
            "event",
            "contentBlockDelta",
            &json!({ "contentBlockIndex": 0, "delta": { "text": piece } }),
        ));
    }
    frames
}

/// `POST /model/{model}/converse-stream`.
pub async fn converse_stream(
    State(state): State<Arc<MockState>>,
    Path(model): Path<String>,
    request: Request,
) -> Response {
    let (count, body, _) = match receive(&state, "converse-stream", &model, request).await {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    if let Some(response) = scripted_error(&model, count) {
        return response;
    }
    let last = match check_converse(&body, true) {
        Ok(last) => last,
        Err(problem) => return error(400, "ValidationException", &problem),
    };
    let blocked = guardrail_blocks(&body);
    let reply = if blocked {
        vec![BLOCKED.to_owned()]
    } else {
        (state.setup.speaker)(&last)
    };
    let mut frames = text_frames(&reply);
    let framing = match model.as_str() {
        SPLIT_FRAMES => Framing::Split,
        CUT_MID_FRAME => Framing::CutMidFrame,
        _ => Framing::Whole,
    };
    let (first, gap) = (state.setup.first, state.setup.gap);
    if model == STREAM_THROTTLE {
        frames.push(frame(
            "exception",
            "throttlingException",
            &json!({ "message": "Slow down" }),
        ));
        return event_stream(pieces(frames, framing, first, gap)).await;
    }
    let stop = if blocked {
        "guardrail_intervened"
    } else {
        "end_turn"
    };
    frames.push(frame(
        "event",
        "contentBlockStop",
        &json!({ "contentBlockIndex": 0 }),
    ));
    frames.push(frame(
        "event",
        "messageStop",
        &json!({ "stopReason": stop }),
    ));
    let mut metadata = json!({
        "usage": usage(&last, &reply.concat()),
        "metrics": { "latencyMs": first.as_millis() + 7 },
    });
    if blocked {
        metadata["trace"] = guardrail_trace();
    }
    frames.push(frame("event", "metadata", &metadata));
    event_stream(pieces(frames, framing, first, gap)).await
}
