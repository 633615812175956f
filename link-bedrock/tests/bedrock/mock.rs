//! A local mock of Bedrock Runtime that speaks the real wire format (rest-json, event-stream
//! frames), checks every request it gets and records it for the tests to inspect.
//!
//! Behaviour is chosen by the model id (errors) and by the request content (guardrail
//! interventions, persona shapes), so one server serves every test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::Region;
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The guardrail's message when it intervenes.
pub const BLOCKED: &str = "Sorry, the model cannot answer this question.";
/// The word that makes the mock guardrail intervene.
pub const TRIGGER: &str = "forbidden";
/// Models that fail on purpose.
pub const THROTTLE_ONCE: &str = "mock.throttle-once-v1:0";
pub const VALIDATION: &str = "mock.validation-v1:0";
pub const TIMEOUT: &str = "mock.timeout-v1:0";
pub const ACCESS_DENIED: &str = "mock.access-denied-v1:0";
pub const UNAVAILABLE: &str = "mock.unavailable-v1:0";
pub const STREAM_THROTTLE: &str = "mock.stream-throttle-v1:0";

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub operation: &'static str,
    pub raw_path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Debug, Default)]
pub struct MockState {
    requests: Mutex<Vec<Recorded>>,
    calls: Mutex<HashMap<String, usize>>,
}

/// A running mock and a client pointed at it.
pub struct Mock {
    pub client: aws_sdk_bedrockruntime::Client,
    state: Arc<MockState>,
}

impl Mock {
    pub async fn start() -> Self {
        let state = Arc::new(MockState::default());
        let app = Router::new()
            .route("/model/{model}/converse", post(converse))
            .route("/model/{model}/converse-stream", post(converse_stream))
            .route("/model/{model}/invoke", post(invoke))
            .route(
                "/guardrail/{id}/version/{version}/apply",
                post(apply_guardrail),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(format!("http://{addr}"))
            .region(Region::new("us-east-1"))
            .test_credentials()
            .empty_test_environment()
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(5)),
            )
            .load()
            .await;
        let client = aws_sdk_bedrockruntime::Client::new(&config);
        Self { client, state }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The last request of `operation`.
    pub fn last(&self, operation: &str) -> Recorded {
        self.requests()
            .into_iter()
            .rev()
            .find(|r| r.operation == operation)
            .unwrap_or_else(|| panic!("no {operation} request recorded"))
    }

    /// How many calls reached the mock for `model`.
    pub fn calls(&self, model: &str) -> usize {
        self.state
            .calls
            .lock()
            .unwrap()
            .get(model)
            .copied()
            .unwrap_or(0)
    }
}

fn record(
    state: &MockState,
    operation: &'static str,
    model: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(usize, Value), Box<Response>> {
    let count = {
        let mut calls = state.calls.lock().unwrap();
        let count = calls.entry(model.to_owned()).or_default();
        *count += 1;
        *count
    };
    let body: Value = serde_json::from_slice(body).map_err(|e| {
        error(
            400,
            "ValidationException",
            &format!("body is not JSON: {e}"),
        )
    })?;
    state.requests.lock().unwrap().push(Recorded {
        operation,
        raw_path: uri.path().to_owned(),
        headers: headers.clone(),
        body: body.clone(),
    });
    check_signed(headers)?;
    if model.contains(':') && !uri.path().contains(&model.replace(':', "%3A")) {
        let problem = "model id not percent-encoded in the path";
        return Err(Box::new(error(400, "ValidationException", problem)));
    }
    Ok((count, body))
}

/// A SigV4 signature for the `bedrock` signing name must be present.
fn check_signed(headers: &HeaderMap) -> Result<(), Box<Response>> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth.starts_with("AWS4-HMAC-SHA256") && auth.contains("/bedrock/aws4_request") {
        Ok(())
    } else {
        let problem = "request not signed for bedrock";
        Err(Box::new(error(403, "AccessDeniedException", problem)))
    }
}

/// A modelled error as Bedrock sends it: status, `x-amzn-errortype` and a JSON message.
pub fn error(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    let mut response = (status, axum::Json(json!({ "message": message }))).into_response();
    response
        .headers_mut()
        .insert("x-amzn-errortype", code.parse().unwrap());
    response
}

/// Errors chosen by model id; `None` means answer normally.
fn scripted_error(model: &str, count: usize) -> Option<Response> {
    match model {
        THROTTLE_ONCE if count == 1 => Some(error(429, "ThrottlingException", "Too many requests")),
        VALIDATION => Some(error(400, "ValidationException", "Malformed input request")),
        TIMEOUT => Some(error(408, "ModelTimeoutException", "Model timed out")),
        ACCESS_DENIED => Some(error(
            403,
            "AccessDeniedException",
            "No access to the model",
        )),
        UNAVAILABLE => Some(error(503, "ServiceUnavailableException", "Try later")),
        _ => None,
    }
}

fn texts(blocks: &Value) -> Vec<String> {
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

/// Checks a Converse / ConverseStream body; returns the last user text and whether a
/// guardrail was asked for.
fn check_converse(body: &Value, streaming: bool) -> Result<(String, bool), String> {
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
    let last = messages
        .last()
        .map(|m| texts(&m["content"]).join(" "))
        .unwrap_or_default();
    Ok((last, guarded))
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

fn usage(input: &str, output: &str) -> Value {
    let (i, o) = (words(input).max(1), words(output).max(1));
    json!({ "inputTokens": i, "outputTokens": o, "totalTokens": i + o })
}

fn guardrail_trace() -> Value {
    json!({ "guardrail": { "inputAssessment": { "gr-test": { "topicPolicy": { "topics": [
        { "name": "Forbidden", "type": "DENY", "action": "BLOCKED" }
    ] } } } } })
}

async fn converse(
    State(state): State<Arc<MockState>>,
    Path(model): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (count, body) = match record(&state, "converse", &model, &uri, &headers, &body) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    if let Some(response) = scripted_error(&model, count) {
        return response;
    }
    if body.get("toolConfig").is_some() {
        return crate::persona_mock::extract(&body);
    }
    let (last, _) = match check_converse(&body, false) {
        Ok(ok) => ok,
        Err(problem) => return error(400, "ValidationException", &problem),
    };
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
    let reply = format!("You said: {last}");
    axum::Json(json!({
        "output": { "message": { "role": "assistant", "content": [{ "text": reply }] } },
        "stopReason": "end_turn",
        "usage": usage(&last, &reply),
        "metrics": { "latencyMs": 3 },
    }))
    .into_response()
}

/// One event-stream frame, encoded with the SDK's own codec.
pub fn frame(kind: &str, name: &str, payload: Value) -> Vec<u8> {
    let type_header = if kind == "event" {
        ":event-type"
    } else {
        ":exception-type"
    };
    let message = Message::new(serde_json::to_vec(&payload).unwrap())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            type_header,
            HeaderValue::String(name.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut buffer = Vec::new();
    write_message_to(&message, &mut buffer).unwrap();
    buffer
}

fn event_stream(frames: Vec<Vec<u8>>) -> Response {
    let body: Vec<u8> = frames.concat();
    let mut response = body.into_response();
    response.headers_mut().insert(
        "content-type",
        "application/vnd.amazon.eventstream".parse().unwrap(),
    );
    response
}

fn text_frames(text: &str) -> Vec<Vec<u8>> {
    let mut frames = vec![frame(
        "event",
        "messageStart",
        json!({ "role": "assistant" }),
    )];
    for chunk in text.split_inclusive(' ') {
        frames.push(frame(
            "event",
            "contentBlockDelta",
            json!({ "contentBlockIndex": 0, "delta": { "text": chunk } }),
        ));
    }
    frames
}

async fn converse_stream(
    State(state): State<Arc<MockState>>,
    Path(model): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (count, body) = match record(&state, "converse-stream", &model, &uri, &headers, &body) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    if let Some(response) = scripted_error(&model, count) {
        return response;
    }
    let (last, _) = match check_converse(&body, true) {
        Ok(ok) => ok,
        Err(problem) => return error(400, "ValidationException", &problem),
    };
    let blocked = guardrail_blocks(&body);
    let reply = if blocked {
        BLOCKED.to_owned()
    } else {
        format!("You said: {last}")
    };
    let mut frames = text_frames(&reply);
    if model == STREAM_THROTTLE {
        frames.push(frame(
            "exception",
            "throttlingException",
            json!({ "message": "Slow down" }),
        ));
        return event_stream(frames);
    }
    let stop = if blocked {
        "guardrail_intervened"
    } else {
        "end_turn"
    };
    frames.push(frame(
        "event",
        "contentBlockStop",
        json!({ "contentBlockIndex": 0 }),
    ));
    frames.push(frame("event", "messageStop", json!({ "stopReason": stop })));
    let mut metadata = json!({ "usage": usage(&last, &reply), "metrics": { "latencyMs": 7 } });
    if blocked {
        metadata["trace"] = guardrail_trace();
    }
    frames.push(frame("event", "metadata", metadata));
    event_stream(frames)
}

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

async fn invoke(
    State(state): State<Arc<MockState>>,
    Path(model): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (count, body) = match record(&state, "invoke", &model, &uri, &headers, &body) {
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

async fn apply_guardrail(
    State(state): State<Arc<MockState>>,
    Path((id, version)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, body) = match record(&state, "apply-guardrail", &id, &uri, &headers, &body) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    if version.is_empty() || body["source"] != "INPUT" {
        return error(400, "ValidationException", "source must be INPUT");
    }
    let Some(text) = body.pointer("/content/0/text/text").and_then(Value::as_str) else {
        return error(400, "ValidationException", "content[0].text.text missing");
    };
    if text.contains(TRIGGER) {
        return axum::Json(json!({
            "usage": { "topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 1,
                       "sensitiveInformationPolicyUnits": 1, "sensitiveInformationPolicyFreeUnits": 0,
                       "contextualGroundingPolicyUnits": 0 },
            "action": "GUARDRAIL_INTERVENED",
            "actionReason": "Guardrail blocked.",
            "outputs": [{ "text": "This character is not allowed." }],
            "assessments": [{ "topicPolicy": { "topics": [
                { "name": "Forbidden", "type": "DENY", "action": "BLOCKED" }
            ] } }],
        }))
        .into_response();
    }
    axum::Json(json!({ "action": "NONE", "outputs": [], "assessments": [] })).into_response()
}
