//! What OpenAI checks before generating anything, each refusal with the API's own status and
//! error body: the key, the JSON body, the model, the messages, the sampling parameters, the
//! strict `response_format`, and `stream_options` without `stream`.

use axum::http::HeaderMap;
use serde_json::Value;

use super::reply::Reply;
use super::strict::response_format_violations;
use super::wire::{invalid_api_key, invalid_request, missing_api_key, model_not_found};

/// Which requests the mock accepts.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The one key accepted; `None` accepts any request, as an OpenAI-compatible local server
    /// (Ollama, vLLM) does.
    pub key: Option<String>,
    /// The models that exist.
    pub models: Vec<String>,
}

/// The request's JSON body, or the answer OpenAI gives instead.
#[allow(clippy::result_large_err)] // the error is the HTTP answer itself
pub fn check_request(policy: &Policy, headers: &HeaderMap, body: &[u8]) -> Result<Value, Reply> {
    check_key(policy, headers)?;
    let body: Value = serde_json::from_slice(body).map_err(|e| {
        invalid_request(
            "",
            &format!("We could not parse the JSON body of your request. ({e})"),
        )
    })?;
    if !body.is_object() {
        return Err(invalid_request(
            "",
            "The request body must be a JSON object.",
        ));
    }
    let Some(model) = body["model"].as_str() else {
        return Err(invalid_request(
            "model",
            "you must provide a model parameter",
        ));
    };
    if !policy.models.iter().any(|m| m == model) {
        return Err(model_not_found(model));
    }
    check_messages(&body["messages"]).map_err(|m| invalid_request("messages", &m))?;
    check_sampling(&body).map_err(|(param, m)| invalid_request(param, &m))?;
    check_response_format(&body)?;
    if body.get("stream_options").is_some() && body["stream"] != true {
        return Err(invalid_request(
            "stream_options",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        ));
    }
    Ok(body)
}

/// Whether the request carries the key the policy accepts; the API's 401 if not.
#[allow(clippy::result_large_err)]
pub fn check_key(policy: &Policy, headers: &HeaderMap) -> Result<(), Reply> {
    let Some(expected) = &policy.key else {
        return Ok(());
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty());
    match given {
        None => Err(missing_api_key()),
        Some(key) if key != expected => Err(invalid_api_key(key)),
        Some(_) => Ok(()),
    }
}

fn check_messages(messages: &Value) -> Result<(), String> {
    let messages = messages
        .as_array()
        .ok_or("'messages' is a required property and must be an array")?;
    if messages.is_empty() {
        return Err("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.".into());
    }
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or_default();
        if !["system", "developer", "user", "assistant"].contains(&role) {
            return Err(format!(
                "Invalid value: '{role}'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'. (messages[{i}].role)"
            ));
        }
        if !content_is_valid(&m["content"]) {
            return Err(format!(
                "Invalid type for 'messages[{i}].content': expected one of a string or array of objects."
            ));
        }
    }
    Ok(())
}

/// A string, or an array of `{"type": "text", "text": ...}` parts.
fn content_is_valid(content: &Value) -> bool {
    match content {
        Value::String(_) => true,
        Value::Array(parts) => parts
            .iter()
            .all(|p| p["type"] == "text" && p["text"].is_string()),
        _ => false,
    }
}

/// Ranges of the sampling parameters, as the API enforces them.
fn check_sampling(body: &Value) -> Result<(), (&'static str, String)> {
    let in_range = |name: &'static str, low: f64, high: f64| match body.get(name) {
        None | Some(Value::Null) => Ok(()),
        Some(v) => match v.as_f64() {
            Some(x) if (low..=high).contains(&x) => Ok(()),
            _ => Err((
                name,
                format!("Invalid '{name}': {v}. Expected a number between {low} and {high}."),
            )),
        },
    };
    in_range("temperature", 0.0, 2.0)?;
    in_range("top_p", 0.0, 1.0)?;
    for name in ["max_tokens", "max_completion_tokens"] {
        if let Some(v) = body.get(name).filter(|v| !v.is_null())
            && v.as_u64().is_none_or(|n| n == 0)
        {
            return Err((
                name,
                format!("Invalid '{name}': {v}. Expected a positive integer."),
            ));
        }
    }
    if body.get("max_tokens").is_some() && body.get("max_completion_tokens").is_some() {
        return Err((
            "max_tokens",
            "Use either 'max_tokens' or 'max_completion_tokens', not both.".into(),
        ));
    }
    match body.get("stop") {
        None | Some(Value::Null | Value::String(_)) => Ok(()),
        Some(Value::Array(stops)) if stops.len() <= 4 && stops.iter().all(Value::is_string) => {
            Ok(())
        }
        Some(v) => Err((
            "stop",
            format!("Invalid 'stop': {v}. Expected a string or an array of at most 4 strings."),
        )),
    }
}

#[allow(clippy::result_large_err)]
fn check_response_format(body: &Value) -> Result<(), Reply> {
    let Some(format) = body.get("response_format") else {
        return Ok(());
    };
    let problems = response_format_violations(format);
    if problems.is_empty() {
        return Ok(());
    }
    let name = format["json_schema"]["name"].as_str().unwrap_or_default();
    let message = format!(
        "Invalid schema for response_format '{name}': {}",
        problems.join("; ")
    );
    Err(super::wire::error_with_param(
        400,
        "invalid_request_error",
        "invalid_json_schema",
        serde_json::json!("response_format"),
        &message,
    ))
}
