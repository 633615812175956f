//! A mock upstream for load tests: OpenAI Chat Completions (whole and SSE), Bedrock Converse
//! and ConverseStream (event-stream frames), a JWKS and a token minter, all on one router.
//!
//! Its timing is set by [`Knobs`]: the reply waits `ttft` before its first byte (a whole
//! reply waits `ttft` too, then comes at once), then `gap` between streamed chunks. The reply
//! is `reply_bytes` of text cut into `chunks` pieces, so a client can count lost chunks.

use std::sync::Arc;
use std::time::Duration;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::keys::{RsaKey, id_claims};

/// How the mock upstream behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knobs {
    /// Time before the first byte of a reply (whole or streamed).
    pub ttft: Duration,
    /// Time between streamed chunks.
    pub gap: Duration,
    /// Text chunks per streamed reply (at least 1).
    pub chunks: usize,
    /// Bytes of reply text (at least one per chunk).
    pub reply_bytes: usize,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            ttft: Duration::ZERO,
            gap: Duration::ZERO,
            chunks: 20,
            reply_bytes: 400,
        }
    }
}

impl Knobs {
    /// The reply cut into its chunks: `chunks` pieces of about equal size that end in a space
    /// and concatenate to `reply_bytes` bytes.
    ///
    /// ```
    /// use link_benches::mock::Knobs;
    /// let knobs = Knobs { chunks: 3, reply_bytes: 31, ..Knobs::default() };
    /// let pieces = knobs.pieces();
    /// assert_eq!(pieces.len(), 3);
    /// assert_eq!(pieces.concat().len(), 31);
    /// ```
    pub fn pieces(&self) -> Vec<String> {
        let chunks = self.chunks.max(1);
        let total = self.reply_bytes.max(chunks);
        const WORDS: &[u8] = b"the quick brown fox jumps over the lazy dog and then ";
        (0..chunks)
            .map(|i| {
                let len = total * (i + 1) / chunks - total * i / chunks;
                let mut piece: Vec<u8> =
                    (0..len).map(|j| WORDS[(i * 7 + j) % WORDS.len()]).collect();
                if let Some(last) = piece.last_mut() {
                    *last = b' ';
                }
                String::from_utf8_lossy(&piece).into_owned()
            })
            .collect()
    }

    /// The whole reply text.
    pub fn reply(&self) -> String {
        self.pieces().concat()
    }
}

/// Shared state of the mock: its knobs and the key its tokens are signed with.
#[derive(Debug)]
pub struct Mock {
    knobs: Knobs,
    key: RsaKey,
}

impl Mock {
    /// A mock with these knobs, signing tokens with `key`.
    pub fn new(knobs: Knobs, key: RsaKey) -> Self {
        Self { knobs, key }
    }
}

/// The router: `POST /v1/chat/completions`, `POST /model/{id}/converse`,
/// `POST /model/{id}/converse-stream`, `GET /jwks.json`, `GET /token?sub=..&ttl=..`,
/// `GET /healthz`.
pub fn router(mock: Arc<Mock>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(openai))
        .route("/chat/completions", post(openai))
        .route("/model/{id}/converse", post(converse))
        .route("/model/{id}/converse-stream", post(converse_stream))
        .route("/jwks.json", get(jwks))
        .route("/token", get(token))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(mock)
}

fn bad_request(message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

async fn openai(State(mock): State<Arc<Mock>>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("body is not JSON");
    };
    if !request["messages"].is_array() {
        return bad_request("messages must be an array");
    }
    let model = request["model"]
        .as_str()
        .unwrap_or("gpt-4o-mini")
        .to_owned();
    if request["stream"].as_bool() == Some(true) {
        let usage = request["stream_options"]["include_usage"].as_bool() == Some(true);
        return openai_stream(mock.knobs, model, usage);
    }
    pause(mock.knobs.ttft).await;
    let content = if request.get("response_format").is_some() {
        persona_json().to_string()
    } else {
        mock.knobs.reply()
    };
    axum::Json(json!({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": crate::keys::unix_now(),
        "model": model, "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": mock.knobs.chunks, "total_tokens": 100 + mock.knobs.chunks},
    }))
    .into_response()
}

/// A persona answer for structured-output requests (persona extraction).
pub fn persona_json() -> Value {
    json!({
        "name": "Ada Lovelace", "kind": "historical", "living": false,
        "description": "A mathematician and writer, known for her work on Babbage's Analytical Engine.",
        "personality": "Curious, precise, imaginative.",
        "speaking_style": "Formal Victorian English.",
        "setting": "London, 1840s.",
        "knowledge": "Mathematics, the Analytical Engine, poetry.",
        "must_not_know": "Anything after 1852.",
        "greeting": "Good day. Shall we speak of engines and numbers?",
        "example_lines": ["The Engine weaves algebraic patterns."],
        "safety_notes": null,
    })
}

fn openai_chunk(model: &str, delta: Value, finish: Option<&str>) -> Bytes {
    let chunk = json!({
        "id": "chatcmpl-bench", "object": "chat.completion.chunk",
        "created": crate::keys::unix_now(), "model": model, "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
    });
    Bytes::from(format!("data: {chunk}\n\n"))
}

fn openai_stream(knobs: Knobs, model: String, usage: bool) -> Response {
    let mut events = vec![openai_chunk(
        &model,
        json!({"role": "assistant", "content": ""}),
        None,
    )];
    events.extend(
        knobs
            .pieces()
            .into_iter()
            .map(|piece| openai_chunk(&model, json!({"content": piece}), None)),
    );
    events.push(openai_chunk(&model, json!({}), Some("stop")));
    if usage {
        let tail = json!({
            "id": "chatcmpl-bench", "object": "chat.completion.chunk", "model": model, "choices": [],
            "usage": {"prompt_tokens": 100, "completion_tokens": knobs.chunks, "total_tokens": 100 + knobs.chunks},
        });
        events.push(Bytes::from(format!("data: {tail}\n\n")));
    }
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    paced(knobs, events, "text/event-stream")
}

/// Waits `wait`; no time at all for zero (tokio's timer would round a zero sleep up to its
/// next 1 ms tick, which would show up as a millisecond of upstream latency).
async fn pause(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

/// Sends `events` with the knobs' timing: `ttft` before the first content piece (the role
/// chunk comes with it, as OpenAI sends it), `gap` before each later one.
fn paced(knobs: Knobs, events: Vec<Bytes>, content_type: &'static str) -> Response {
    let head = 2; // the role / messageStart event and the first content piece
    let stream =
        futures::stream::iter(events.into_iter().enumerate()).then(move |(i, event)| async move {
            let wait = match i {
                0 => knobs.ttft,
                i if i < head => Duration::ZERO,
                i if i < head + knobs.chunks.max(1) - 1 => knobs.gap,
                _ => Duration::ZERO,
            };
            pause(wait).await;
            Ok::<_, std::convert::Infallible>(event)
        });
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The problem with a Converse body, if any (the mock only checks what it relies on).
fn converse_problem(body: &Bytes) -> Option<Response> {
    match serde_json::from_slice::<Value>(body) {
        Err(_) => Some(bedrock_error("ValidationException", "body is not JSON")),
        Ok(request) if !request["messages"].is_array() => Some(bedrock_error(
            "ValidationException",
            "messages must be an array",
        )),
        Ok(_) => None,
    }
}

fn bedrock_error(kind: &str, message: &str) -> Response {
    let mut response = (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"message": message})),
    )
        .into_response();
    if let Ok(value) = kind.parse() {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

fn bedrock_usage(knobs: &Knobs) -> Value {
    json!({"inputTokens": 100, "outputTokens": knobs.chunks, "totalTokens": 100 + knobs.chunks})
}

async fn converse(State(mock): State<Arc<Mock>>, body: Bytes) -> Response {
    if let Some(response) = converse_problem(&body) {
        return response;
    }
    pause(mock.knobs.ttft).await;
    axum::Json(json!({
        "output": {"message": {"role": "assistant", "content": [{"text": mock.knobs.reply()}]}},
        "stopReason": "end_turn",
        "usage": bedrock_usage(&mock.knobs),
        "metrics": {"latencyMs": mock.knobs.ttft.as_millis()},
    }))
    .into_response()
}

async fn converse_stream(State(mock): State<Arc<Mock>>, body: Bytes) -> Response {
    if let Some(response) = converse_problem(&body) {
        return response;
    }
    let knobs = mock.knobs;
    let mut frames = vec![frame("messageStart", &json!({"role": "assistant"}))];
    frames.extend(knobs.pieces().into_iter().map(|piece| {
        frame(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"text": piece}}),
        )
    }));
    frames.push(frame("contentBlockStop", &json!({"contentBlockIndex": 0})));
    frames.push(frame("messageStop", &json!({"stopReason": "end_turn"})));
    frames.push(frame(
        "metadata",
        &json!({"usage": bedrock_usage(&knobs), "metrics": {"latencyMs": knobs.ttft.as_millis()}}),
    ));
    paced(knobs, frames, "application/vnd.amazon.eventstream")
}

/// One `application/vnd.amazon.eventstream` event frame, encoded by the SDK's own codec.
pub fn frame(event_type: &str, payload: &Value) -> Bytes {
    let message = Message::new(payload.to_string().into_bytes())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ))
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut buffer = Vec::new();
    match write_message_to(&message, &mut buffer) {
        Ok(()) => Bytes::from(buffer),
        Err(e) => {
            tracing::error!(error = %e, "event-stream frame not encoded");
            Bytes::new()
        }
    }
}

async fn jwks(State(mock): State<Arc<Mock>>) -> Response {
    axum::Json(json!({"keys": [mock.key.jwk()]})).into_response()
}

/// `GET /token` parameters.
#[derive(Debug, Deserialize)]
struct TokenQuery {
    sub: Option<String>,
    ttl: Option<u64>,
}

async fn token(State(mock): State<Arc<Mock>>, Query(query): Query<TokenQuery>) -> Response {
    let sub = query.sub.unwrap_or_else(|| "bench-user".into());
    match mock.key.token(&id_claims(&sub, query.ttl.unwrap_or(3600))) {
        Ok(token) => token.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
