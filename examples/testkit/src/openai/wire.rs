//! OpenAI-shaped answers: completions, stream chunks, SSE bodies and the API's error bodies
//! (statuses, `type`s, `code`s and messages as OpenAI sends them).

use axum::body::Bytes;
use serde_json::{Value, json};

use super::reply::{Piece, Reply};

/// A whole `chat.completion` with one choice.
pub fn completion(message: Value, finish_reason: &str) -> Reply {
    Reply::new(200).set_body_json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70,
                  "prompt_tokens_details": {"cached_tokens": 0}},
        "system_fingerprint": "fp_test",
        "service_tier": "default"
    }))
}

/// A completion whose content is `content` (a persona's JSON, say).
pub fn json_completion(content: &Value, finish_reason: &str) -> Reply {
    completion(
        json!({"role": "assistant", "content": content.to_string(), "refusal": null}),
        finish_reason,
    )
}

/// An OpenAI error answer: `{"error": {message, type, param, code}}` and an `x-request-id`.
/// An empty `code` is sent as `null`, as OpenAI does for errors without one.
pub fn error(status: u16, kind: &str, code: &str, message: &str) -> Reply {
    error_with_param(status, kind, code, Value::Null, message)
}

/// [`error`] naming the request parameter at fault.
pub fn error_with_param(status: u16, kind: &str, code: &str, param: Value, message: &str) -> Reply {
    let code = if code.is_empty() {
        Value::Null
    } else {
        json!(code)
    };
    Reply::new(status)
        .insert_header("x-request-id", "req_test")
        .set_body_json(
            json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
        )
}

/// The 401 for a wrong key: OpenAI echoes the key masked, as [`mask_key`] does.
pub fn invalid_api_key(key: &str) -> Reply {
    let message = format!(
        "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.",
        mask_key(key)
    );
    error(401, "invalid_request_error", "invalid_api_key", &message)
}

/// The 401 for a request without a bearer key.
pub fn missing_api_key() -> Reply {
    error(
        401,
        "invalid_request_error",
        "",
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.",
    )
}

/// A key as OpenAI shows it in a 401: its first 8 characters, stars, its last 4 (a key too
/// short for that keeps only its first 3 characters visible).
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() > 12 {
        let head: String = chars[..8].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(chars.len() - 12))
    } else {
        let head: String = chars.iter().take(3).collect();
        format!("{head}{}", "*".repeat(chars.len().saturating_sub(3)))
    }
}

/// The 404 for a model that does not exist.
pub fn model_not_found(model: &str) -> Reply {
    let message = format!("The model `{model}` does not exist or you do not have access to it.");
    error(404, "invalid_request_error", "model_not_found", &message)
}

/// A 400 `invalid_request_error` about `param`.
pub fn invalid_request(param: &str, message: &str) -> Reply {
    let param = if param.is_empty() {
        Value::Null
    } else {
        json!(param)
    };
    error_with_param(400, "invalid_request_error", "", param, message)
}

/// The 429 of a rate limit, with `retry-after-ms` (and `retry-after` in whole seconds, at
/// least 1) as OpenAI sends them.
pub fn rate_limited(model: &str, retry_after_ms: u64) -> Reply {
    let message = format!(
        "Rate limit reached for {model} in organization org-test on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in {retry_after_ms}ms. Visit https://platform.openai.com/account/rate-limits to learn more."
    );
    error(429, "requests", "rate_limit_exceeded", &message)
        .insert_header("retry-after-ms", &retry_after_ms.to_string())
        .insert_header(
            "retry-after",
            &retry_after_ms.div_ceil(1000).max(1).to_string(),
        )
        .insert_header("x-ratelimit-remaining-requests", "0")
}

/// The 429 of an exhausted quota (not worth retrying).
pub fn insufficient_quota() -> Reply {
    error(
        429,
        "insufficient_quota",
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
    )
}

/// The 503 of an overloaded engine, asking for a retry in `retry_after_ms`.
pub fn overloaded(retry_after_ms: u64) -> Reply {
    error(
        503,
        "server_error",
        "",
        "The engine is currently overloaded, please try again later.",
    )
    .insert_header("retry-after-ms", &retry_after_ms.to_string())
}

/// The error object OpenAI puts in a stream that fails after it started.
pub fn stream_error() -> Value {
    json!({"error": {"message": "The server had an error while processing your request. Sorry about that!", "type": "server_error", "param": null, "code": null}})
}

/// One `chat.completion.chunk`.
pub fn chunk(delta: Value, finish_reason: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_test",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}]
    })
}

/// The final usage chunk of `include_usage`.
pub fn usage_chunk(prompt: u64, completion: u64) -> Value {
    json!({
        "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18", "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    })
}

/// The keep-alive comment OpenAI's front end sends on an open stream.
pub const KEEP_ALIVE: &str = ": keep-alive\n\n";

/// One `data:` event.
pub fn event(data: &Value) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

/// The stream's terminator.
pub fn done() -> Bytes {
    Bytes::from_static(b"data: [DONE]\n\n")
}

/// A `text/event-stream` body of `events` (after a keep-alive comment), ending with
/// `data: [DONE]` when `done`.
pub fn sse(events: &[Value], done: bool) -> Reply {
    let mut pieces = vec![Piece::Data(Bytes::from_static(KEEP_ALIVE.as_bytes()))];
    pieces.extend(events.iter().map(|e| Piece::Data(event(e))));
    if done {
        pieces.push(Piece::Data(self::done()));
    }
    sse_pieces(pieces)
}

/// A `text/event-stream` answer of `pieces`.
pub fn sse_pieces(pieces: Vec<Piece>) -> Reply {
    Reply::new(200)
        .insert_header("cache-control", "no-cache")
        .set_body_pieces(pieces, "text/event-stream")
}

/// A persona's JSON as the model would produce it under the strict schema.
pub fn persona_json() -> Value {
    json!({
        "name": "Ada Lovelace",
        "kind": "historical",
        "living": false,
        "description": "Augusta Ada King, Countess of Lovelace, a mathematician who wrote the first published algorithm for Babbage's Analytical Engine.",
        "personality": "Imaginative, precise, fiercely curious.",
        "speaking_style": "Victorian, articulate, fond of 'poetical science'.",
        "setting": "London, 1840s.",
        "knowledge": "Mathematics, the Analytical Engine, Victorian society.",
        "must_not_know": "Anything after 1852.",
        "greeting": "Good day! Have you come to discuss the Engine?",
        "example_lines": ["The Engine weaves algebraic patterns.", "Imagination is the discovering faculty."],
        "safety_notes": "A real historical person: her lines here are invented."
    })
}
