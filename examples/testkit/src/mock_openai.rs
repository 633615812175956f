//! A mock of OpenAI's Chat Completions API on 127.0.0.1, speaking the real wire format:
//! structured-output persona extraction, whole replies, and SSE streams. What it answers is
//! steered by words in the user's last message, so each test can ask for its case.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use serde_json::{Value, json};

/// The reply the mock gives to an ordinary message.
pub const REPLY: &str = "Elementary, my dear friend. The clues were there all along.";

#[derive(Clone, Default)]
struct Mock {
    calls: Arc<AtomicUsize>,
}

/// A running mock.
pub struct MockOpenAi {
    /// The base URL to give as OPENAI_BASE_URL.
    pub base_url: String,
    calls: Arc<AtomicUsize>,
}

impl MockOpenAi {
    /// Starts the mock on a free loopback port, on the test's runtime: it stops when that
    /// runtime ends.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mock, app) = Self::app(listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        mock
    }

    /// Starts the mock on a free loopback port, on a thread of its own, for synchronous
    /// tests (that drive a binary while it serves); it serves until the test process ends.
    pub fn start_on_thread() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let (mock, app) = Self::app(listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        mock
    }

    /// The handle for a mock at `addr`, and the app that serves it.
    fn app(addr: SocketAddr) -> (Self, axum::Router) {
        let state = Mock::default();
        let calls = state.calls.clone();
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(state);
        let mock = Self {
            base_url: format!("http://{addr}/v1"),
            calls,
        };
        (mock, app)
    }

    /// How many requests it has answered.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn last_user_text(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn completions(
    State(mock): State<Mock>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    mock.calls.fetch_add(1, Ordering::SeqCst);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer test-key") {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "Incorrect API key provided",
        );
    }
    let text = last_user_text(&body);
    if text.contains("quota") {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "insufficient_quota",
            "You exceeded your current quota",
        );
    }
    if text.contains("overloaded") {
        let mut response = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "The server is overloaded",
        );
        response
            .headers_mut()
            .insert("retry-after-ms", "10".parse().unwrap());
        return response;
    }
    if body.get("response_format").is_some() {
        return Json(completion(&persona_json(&text), "stop")).into_response();
    }
    if text.contains("forbidden topic") {
        return Json(completion("", "content_filter")).into_response();
    }
    if body["stream"] == true {
        let pace = if text.contains("slowly") {
            Pace::Slow
        } else if text.contains("gradually") {
            Pace::Gradual
        } else {
            Pace::Fast
        };
        return stream(pace);
    }
    Json(completion(REPLY, "stop")).into_response()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "error", "param": null, "code": code}});
    (status, Json(body)).into_response()
}

fn completion(content: &str, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": finish_reason,
            "message": {"role": "assistant", "content": content, "refusal": null}}],
        "usage": {"prompt_tokens": 42, "completion_tokens": 12, "total_tokens": 54}
    })
}

fn persona_json(request: &str) -> String {
    let name = request.trim();
    json!({
        "name": name, "kind": "fictional", "living": null,
        "description": format!("{name}, as the stories tell it."),
        "personality": "Sharp and curious.", "speaking_style": "Precise, a little dry.",
        "setting": "Victorian London", "knowledge": "Crime, chemistry, violin.",
        "must_not_know": "Anything after 1914.",
        "greeting": format!("Good evening. I am {name}. What brings you here?"),
        "example_lines": ["You see, but you do not observe."],
        "safety_notes": null
    })
    .to_string()
}

/// How a streamed reply arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pace {
    /// [`REPLY`] at once.
    Fast,
    /// [`GRADUAL_REPLY`], a word every 60 ms: slow enough to watch it grow in a browser.
    Gradual,
    /// 200 words, one every 50 ms: long enough to drop mid-way.
    Slow,
}

/// The reply streamed for a message containing "gradually": markdown, and text that would be
/// markup if the page injected it as HTML.
pub const GRADUAL_REPLY: &str = "Let me **think** about <img src=x onerror=alert(1)> that, \
    my friend. One by one the *clues* arrange themselves: the mud, the ash, the watch, \
    the dog that did nothing in the night. It is all perfectly `elementary` once seen.";

/// An SSE stream of the reply, a word a chunk, then usage and [DONE].
fn stream(pace: Pace) -> Response {
    let words: Vec<String> = match pace {
        Pace::Slow => (0..200).map(|i| format!("word{i} ")).collect(),
        Pace::Gradual => GRADUAL_REPLY
            .split_inclusive(' ')
            .map(str::to_owned)
            .collect(),
        Pace::Fast => REPLY.split_inclusive(' ').map(str::to_owned).collect(),
    };
    let gap = match pace {
        Pace::Slow => Duration::from_millis(50),
        Pace::Gradual => Duration::from_millis(60),
        Pace::Fast => Duration::ZERO,
    };
    let chunk = |delta: Value, finish: Value| {
        let event = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-4o-mini", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {event}\n\n")
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    events.extend(
        words
            .iter()
            .map(|w| chunk(json!({"content": w}), Value::Null)),
    );
    events.push(chunk(json!({}), json!("stop")));
    let usage = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
        "choices": [], "usage": {"prompt_tokens": 42, "completion_tokens": words.len(), "total_tokens": 42 + words.len()}});
    events.push(format!("data: {usage}\n\n"));
    events.push("data: [DONE]\n\n".to_owned());
    let body = futures::stream::iter(events).then(move |event| async move {
        if !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
        Ok::<_, Infallible>(event)
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}
