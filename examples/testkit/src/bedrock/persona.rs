//! The mock's answer to a Converse call with a tool: a persona tool call built from the
//! request, after checking that the tool is the persona schema and that it is forced.

use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::error;

/// A request containing this word gets a tool call that is not a persona.
pub const MALFORMED: &str = "malformed";
/// A request containing this word gets a persona without a name.
pub const NAMELESS: &str = "nameless";
/// A request containing this word gets text instead of the tool call.
pub const CHATTY: &str = "chatty";

fn check_tool(body: &Value) -> Result<(String, String), String> {
    let tool = body
        .pointer("/toolConfig/tools/0/toolSpec")
        .ok_or("toolSpec missing")?;
    let name = tool["name"].as_str().ok_or("tool name missing")?;
    let forced = body
        .pointer("/toolConfig/toolChoice/tool/name")
        .and_then(Value::as_str);
    if forced != Some(name) {
        return Err(format!("toolChoice must force {name}, got {forced:?}"));
    }
    let schema = tool
        .pointer("/inputSchema/json")
        .ok_or("inputSchema.json missing")?;
    for field in ["name", "kind", "description", "greeting", "example_lines"] {
        if schema.pointer(&format!("/properties/{field}")).is_none() {
            return Err(format!("schema lacks {field}"));
        }
    }
    if body["system"].as_array().is_none_or(|s| s.is_empty()) {
        return Err("extraction instructions missing".into());
    }
    let request = body
        .pointer("/messages/0/content/0/text")
        .and_then(Value::as_str)
        .ok_or("the request must be the first user text")?;
    Ok((name.to_owned(), request.to_owned()))
}

fn persona(request: &str) -> Value {
    if request.contains(MALFORMED) {
        return json!({ "name": 42, "kind": "wizard" });
    }
    let name = if request.contains(NAMELESS) {
        ""
    } else {
        request
    };
    json!({
        "name": name,
        "kind": "fictional",
        "living": null,
        "description": format!("{request}, as the user asked for them."),
        "personality": "Curious.",
        "speaking_style": "Brisk.",
        "setting": "Somewhere.",
        "knowledge": "Their own story.",
        "must_not_know": "The future.",
        "greeting": format!("  Hello, I am {request}.  "),
        "example_lines": ["Indeed.", "  "],
        "safety_notes": null
    })
}

/// The answer to a Converse request with a tool.
pub fn extract(body: &Value) -> Response {
    let (tool, request) = match check_tool(body) {
        Ok(ok) => ok,
        Err(problem) => return error(400, "ValidationException", &problem),
    };
    let content = if request.contains(CHATTY) {
        json!([{ "text": "Here is a character for you!" }])
    } else {
        json!([{ "toolUse": { "toolUseId": "tooluse_1", "name": tool, "input": persona(&request) } }])
    };
    let stop = if request.contains(CHATTY) {
        "end_turn"
    } else {
        "tool_use"
    };
    axum::Json(json!({
        "output": { "message": { "role": "assistant", "content": content } },
        "stopReason": stop,
        "usage": { "inputTokens": 300, "outputTokens": 120, "totalTokens": 420 },
        "metrics": { "latencyMs": 9 },
    }))
    .into_response()
}
