//! A fake OpenAI for the tests: a wiremock server on 127.0.0.1 (port chosen at run time) that
//! checks every request the way OpenAI does (key, model, messages, strict schema) and answers
//! with scripted Chat Completions wire responses.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use link_openai::{OpenAiConfig, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const KEY: &str = "sk-test-abcdefghijklmnop0123456789";
pub const MODEL: &str = "gpt-4o-mini";
const KNOWN_MODELS: &[&str] = &["gpt-4o-mini", "gpt-4o"];

/// One scripted answer, given the request body.
pub type Answer = Arc<dyn Fn(&Value) -> ResponseTemplate + Send + Sync>;

/// The same response whatever the request.
pub fn fixed(template: ResponseTemplate) -> Answer {
    Arc::new(move |_| template.clone())
}

/// A chat that says `reply`, streamed in word-sized deltas when the request streams.
pub fn chat(reply: &'static str) -> Answer {
    Arc::new(move |body| {
        if body["stream"] == true {
            let mut chunks: Vec<Value> =
                vec![chunk(json!({"role": "assistant", "content": ""}), None)];
            chunks.extend(
                reply
                    .split_inclusive(' ')
                    .map(|w| chunk(json!({"content": w}), None)),
            );
            chunks.push(chunk(json!({}), Some("stop")));
            if body["stream_options"]["include_usage"] == true {
                chunks.push(usage_chunk(12, 5));
            }
            sse(&chunks, true)
        } else {
            completion(
                json!({"role": "assistant", "content": reply, "refusal": null}),
                "stop",
            )
        }
    })
}

/// A fake OpenAI server answering `answers` in turn (the last one repeats).
pub struct FakeOpenAi {
    pub server: MockServer,
}

impl FakeOpenAi {
    pub async fn start(answers: Vec<Answer>) -> Self {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(Script {
                answers,
                next: AtomicUsize::new(0),
            })
            .mount(&server)
            .await;
        Self { server }
    }

    /// A configuration pointing at this server, with tiny backoff.
    pub fn config(&self) -> OpenAiConfig {
        self.builder().build().unwrap()
    }

    pub fn builder(&self) -> link_openai::OpenAiConfigBuilder {
        OpenAiConfig::builder()
            .api_key(KEY)
            .base_url(format!("{}/v1", self.server.uri()))
            .model(MODEL)
            .retry_policy(fast_retries(2))
    }

    /// Bodies of every request received so far.
    pub async fn bodies(&self) -> Vec<Value> {
        self.requests()
            .await
            .iter()
            .map(|r| r.body_json().unwrap())
            .collect()
    }

    pub async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }
}

pub fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        ..RetryPolicy::default()
    }
}

struct Script {
    answers: Vec<Answer>,
    next: AtomicUsize,
}

impl Respond for Script {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = match check_request(request) {
            Ok(body) => body,
            Err(refusal) => return refusal,
        };
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let answer = &self.answers[n.min(self.answers.len() - 1)];
        answer(&body)
    }
}

/// What OpenAI checks before generating anything, with its error answers.
#[allow(clippy::result_large_err)] // a test helper: the error is the HTTP answer itself
fn check_request(request: &Request) -> Result<Value, ResponseTemplate> {
    let auth = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != format!("Bearer {KEY}") {
        return Err(error(
            401,
            "invalid_request_error",
            "invalid_api_key",
            "Incorrect API key provided: sk-proj-****wxyz. You can find your API key at https://platform.openai.com/account/api-keys.",
        ));
    }
    let body: Value = serde_json::from_slice(&request.body).map_err(|e| {
        error(
            400,
            "invalid_request_error",
            "",
            &format!("We could not parse the JSON body: {e}"),
        )
    })?;
    let model = body["model"].as_str().unwrap_or_default();
    if !KNOWN_MODELS.contains(&model) {
        return Err(error(
            404,
            "invalid_request_error",
            "model_not_found",
            &format!("The model `{model}` does not exist or you do not have access to it."),
        ));
    }
    check_messages(&body["messages"]).map_err(|m| error(400, "invalid_request_error", "", &m))?;
    if let Some(format) = body.get("response_format") {
        let problems = response_format_violations(format);
        if !problems.is_empty() {
            return Err(error(
                400,
                "invalid_request_error",
                "invalid_json_schema",
                &format!(
                    "Invalid schema for response_format: {}",
                    problems.join("; ")
                ),
            ));
        }
    }
    if body.get("stream_options").is_some() && body["stream"] != true {
        return Err(error(
            400,
            "invalid_request_error",
            "",
            "stream_options requires stream: true",
        ));
    }
    Ok(body)
}

fn check_messages(messages: &Value) -> Result<(), String> {
    let messages = messages.as_array().ok_or("messages must be an array")?;
    if messages.is_empty() {
        return Err("messages must not be empty".into());
    }
    for m in messages {
        let role = m["role"].as_str().unwrap_or_default();
        if !["system", "user", "assistant", "developer"].contains(&role) {
            return Err(format!("invalid role {role:?}"));
        }
        if !m["content"].is_string() {
            return Err("content must be a string".into());
        }
    }
    Ok(())
}

/// Every way `response_format` breaks OpenAI's strict structured-output rules (WIRE.md).
pub fn response_format_violations(format: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if format["type"] != "json_schema" {
        problems.push("response_format.type must be json_schema".into());
    }
    let spec = &format["json_schema"];
    let name = spec["name"].as_str().unwrap_or_default();
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !name_ok {
        problems.push(format!("json_schema.name {name:?} is invalid"));
    }
    if spec["strict"] != true {
        problems.push("json_schema.strict must be true".into());
    }
    problems.extend(strict_schema_violations(&spec["schema"]));
    problems
}

/// Every way `schema` breaks the strict-mode subset: root object, closed objects, all
/// properties required, no unsupported keywords, resolvable bare `$ref`s, limits.
pub fn strict_schema_violations(schema: &Value) -> Vec<String> {
    let mut walker = Walker {
        root: schema,
        problems: Vec::new(),
        properties: 0,
    };
    if schema["type"] != "object" {
        walker.problems.push("root: type must be \"object\"".into());
    }
    if schema.get("anyOf").is_some() {
        walker
            .problems
            .push("root: anyOf is not allowed at the root".into());
    }
    walker.walk(schema, "#", 0);
    if let Some(defs) = schema.get("$defs").and_then(Value::as_object) {
        for (name, def) in defs {
            walker.walk(def, &format!("#/$defs/{name}"), 0);
        }
    }
    if walker.properties > 5000 {
        walker
            .problems
            .push(format!("{} properties (max 5000)", walker.properties));
    }
    walker.problems
}

struct Walker<'a> {
    root: &'a Value,
    problems: Vec<String>,
    properties: usize,
}

const FORBIDDEN: &[&str] = &[
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "default",
    "oneOf",
    "prefixItems",
];
const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "object", "array", "null",
];

impl Walker<'_> {
    fn walk(&mut self, schema: &Value, at: &str, depth: usize) {
        let Some(obj) = schema.as_object() else {
            self.problems
                .push(format!("{at}: a schema must be an object"));
            return;
        };
        for key in FORBIDDEN {
            if obj.contains_key(*key) {
                self.problems
                    .push(format!("{at}: `{key}` is not supported"));
            }
        }
        if at != "#" && obj.contains_key("$defs") {
            self.problems.push(format!("{at}: $defs only at the root"));
        }
        if let Some(reference) = obj.get("$ref") {
            self.check_ref(reference, obj.len(), at);
            return;
        }
        self.check_types(obj.get("type"), at);
        if let Some(branches) = obj.get("anyOf") {
            match branches.as_array() {
                Some(branches) if !branches.is_empty() => {
                    for (i, b) in branches.iter().enumerate() {
                        self.walk(b, &format!("{at}/anyOf/{i}"), depth);
                    }
                }
                _ => self
                    .problems
                    .push(format!("{at}: anyOf must be a non-empty array")),
            }
        }
        if let Some(items) = obj.get("items") {
            self.walk(items, &format!("{at}/items"), depth);
        }
        let is_object = match obj.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
            _ => obj.contains_key("properties"),
        };
        if is_object {
            self.check_object(obj, at, depth + 1);
        }
    }

    fn check_ref(&mut self, reference: &Value, keys: usize, at: &str) {
        if keys > 1 {
            self.problems
                .push(format!("{at}: $ref must not have sibling keys"));
        }
        let Some(reference) = reference.as_str() else {
            self.problems.push(format!("{at}: $ref must be a string"));
            return;
        };
        if reference == "#" {
            return;
        }
        let resolved = reference
            .strip_prefix("#/$defs/")
            .and_then(|name| self.root.get("$defs")?.get(name));
        if resolved.is_none() {
            self.problems
                .push(format!("{at}: $ref {reference:?} does not resolve"));
        }
    }

    fn check_types(&mut self, ty: Option<&Value>, at: &str) {
        let names: Vec<&Value> = match ty {
            None => return,
            Some(Value::Array(ts)) => ts.iter().collect(),
            Some(t) => vec![t],
        };
        for t in names {
            if !t.as_str().is_some_and(|t| TYPES.contains(&t)) {
                self.problems.push(format!("{at}: unknown type {t}"));
            }
        }
    }

    fn check_object(&mut self, obj: &serde_json::Map<String, Value>, at: &str, depth: usize) {
        if depth > 10 {
            self.problems
                .push(format!("{at}: nested deeper than 10 levels"));
        }
        if obj.get("additionalProperties") != Some(&Value::Bool(false)) {
            self.problems
                .push(format!("{at}: additionalProperties must be false"));
        }
        let empty = serde_json::Map::new();
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let keys: BTreeSet<&str> = props.keys().map(String::as_str).collect();
        let required: BTreeSet<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if keys != required {
            self.problems.push(format!(
                "{at}: required {required:?} must list every property {keys:?}"
            ));
        }
        self.properties += props.len();
        for (name, prop) in props {
            self.walk(prop, &format!("{at}/properties/{name}"), depth);
        }
    }
}

// ---- OpenAI-shaped answers ----

/// A whole `chat.completion` with one choice.
pub fn completion(message: Value, finish_reason: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
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
pub fn json_completion(content: &Value, finish_reason: &str) -> ResponseTemplate {
    completion(
        json!({"role": "assistant", "content": content.to_string(), "refusal": null}),
        finish_reason,
    )
}

/// An OpenAI error answer.
pub fn error(status: u16, kind: &str, code: &str, message: &str) -> ResponseTemplate {
    let code = if code.is_empty() {
        Value::Null
    } else {
        json!(code)
    };
    ResponseTemplate::new(status)
        .insert_header("x-request-id", "req_test")
        .set_body_json(
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
        )
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

/// A `text/event-stream` body of `events` (with a comment line, as servers send keep-alives),
/// ending with `data: [DONE]` when `done`.
pub fn sse(events: &[Value], done: bool) -> ResponseTemplate {
    let mut body = String::from(": keep-alive\n\n");
    for event in events {
        body.push_str(&format!("data: {event}\n\n"));
    }
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
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
