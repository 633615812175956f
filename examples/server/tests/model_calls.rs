//! One user's burst cannot take the model from everyone else: each user may have
//! `LINK_MAX_MODEL_CALLS_PER_USER` model calls running (2 by default); more are refused at
//! once with 429 `quota_exceeded`.
//!
//! The model is the mock OpenAI behind a narrow door that serves at most 8 calls at once and
//! answers 503 to the 9th, as the local model's queue of 8 answers `busy`: without the cap
//! alice's 10 slow streams fill it and bob's request fails; with it, bob's passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use futures::future::join_all;
use reqwest::Client;
use serde_json::{Value, json};
use support::mock_openai::MockOpenAi;
use support::{Options, Server, temp_database};

/// Calls the door lets through at once.
const DOOR: usize = 8;
/// Asks the mock for a reply of 200 words, one every 50 ms: 10 s of streaming.
const SLOW: &str = "Tell me everything, slowly.";

/// A door before the mock: at most [`DOOR`] calls in flight, a call lasting until its answer's
/// body has been sent.
struct Door {
    open: AtomicUsize,
}

/// Decrements the door's count when the answer it belongs to is done.
struct InFlight(Arc<Door>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn pass(State(door): State<Arc<Door>>, request: Request, next: Next) -> Response {
    if door.open.fetch_add(1, Ordering::SeqCst) >= DOOR {
        door.open.fetch_sub(1, Ordering::SeqCst);
        // As a saturated model says it: busy, and not worth an immediate retry.
        let busy = json!({"error": {"message": "the model is busy", "type": "server_error"}});
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [("x-should-retry", "false")],
            axum::Json(busy),
        )
            .into_response();
    }
    let in_flight = InFlight(door);
    next.run(request).await.map(|body| {
        let chunks = body.into_data_stream().map(move |chunk| {
            let _held = &in_flight;
            chunk
        });
        Body::from_stream(chunks)
    })
}

/// The mock behind a door of [`DOOR`] calls; its base URL.
async fn narrow_model() -> String {
    let door = Arc::new(Door {
        open: AtomicUsize::new(0),
    });
    let (_, mock) = MockOpenAi::setup().router();
    let app = mock.layer(middleware::from_fn_with_state(door, pass));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

struct Setup {
    server: Server,
    _dir: tempfile::TempDir,
}

/// The server on the narrow model, with `env` on top; a rate limit that this file's
/// bursts never reach, so that only the cap under test refuses anything.
async fn setup(env: Vec<(&'static str, String)>) -> Setup {
    let door = narrow_model().await;
    let (dir, database) = temp_database();
    let mut env = env;
    env.push(("LINK_RATE_LIMIT_PER_MINUTE", "1000".into()));
    let server = Server::start(Options {
        database: &database,
        openai_base_url: &door,
        env,
    });
    Setup { server, _dir: dir }
}

/// Starts a streamed reply; the response with its body still to read.
async fn stream(s: &Setup, token: &str, id: &str, content: &str) -> reqwest::Response {
    Client::new()
        .post(format!("{}/v1/conversations/{id}/messages", s.server.url))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .json(&json!({"content": content}))
        .send()
        .await
        .unwrap()
}

/// Reads a stream until its first delta: the model call is then surely running.
async fn first_delta(response: &mut reqwest::Response) {
    let mut seen = String::new();
    while !seen.contains("event: delta") {
        let chunk = response.chunk().await.unwrap().expect("the stream ended");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// What a burst left: the conversation, the answers that started streaming (each read to its
/// first delta, and still open), and the status and error code of the others.
struct Burst {
    id: String,
    running: Vec<reqwest::Response>,
    refused: Vec<(StatusCode, Value)>,
}

/// Alice's 10 slow streams at once, into a new conversation.
async fn burst(s: &Setup, alice: &str) -> Burst {
    let id = s.server.conversation(alice, "Scheherazade").await;
    let answers = join_all((0..10).map(|_| stream(s, alice, &id, SLOW))).await;
    let mut running = Vec::new();
    let mut refused = Vec::new();
    for mut answer in answers {
        if answer.status() == StatusCode::OK {
            first_delta(&mut answer).await;
            running.push(answer);
        } else {
            let status = answer.status();
            let body: Value = answer.json().await.unwrap();
            refused.push((status, body["error"]["code"].clone()));
        }
    }
    Burst {
        id,
        running,
        refused,
    }
}

/// Bob's whole reply while alice's streams run: its status and error code (if any).
async fn bobs_reply(s: &Setup, bob: &str, id: &str) -> (StatusCode, Value) {
    let answer = Client::new()
        .post(format!("{}/v1/conversations/{id}/messages", s.server.url))
        .bearer_auth(bob)
        .json(&json!({"content": "Are you there?"}))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    (status, body["error"]["code"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_cap_alices_burst_makes_bobs_request_fail() {
    let s = setup(vec![("LINK_MAX_MODEL_CALLS_PER_USER", "0".into())]).await;
    let alice = s.server.token("alice").await;
    let bob = s.server.token("bob").await;
    let bobs = s.server.conversation(&bob, "Sherlock Holmes").await;
    let Burst {
        running, refused, ..
    } = burst(&s, &alice).await;
    assert_eq!(running.len(), DOOR, "{refused:?}");
    assert_eq!(refused.len(), 10 - DOOR);
    let (status, code) = bobs_reply(&s, &bob, &bobs).await;
    // The door's 503 says not to retry, so Link answers 502.
    assert_eq!(
        (status, code),
        (StatusCode::BAD_GATEWAY, json!("upstream_error"))
    );
    drop(running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alices_ten_streams_do_not_make_bobs_request_fail() {
    let s = setup(vec![]).await;
    let alice = s.server.token("alice").await;
    let bob = s.server.token("bob").await;
    let bobs = s.server.conversation(&bob, "Sherlock Holmes").await;
    let Burst {
        id,
        mut running,
        refused,
    } = burst(&s, &alice).await;
    assert_eq!(running.len(), 2, "the default cap is 2: {refused:?}");
    assert_eq!(refused.len(), 8);
    for (status, code) in &refused {
        assert_eq!(
            (*status, code),
            (StatusCode::TOO_MANY_REQUESTS, &json!("quota_exceeded"))
        );
    }
    assert_eq!(
        bobs_reply(&s, &bob, &bobs).await,
        (StatusCode::OK, Value::Null)
    );

    // A stream the client drops gives its slot back: alice may start another.
    drop(running.pop());
    let started = Instant::now();
    loop {
        let answer = stream(&s, &alice, &id, "hello").await;
        if answer.status() == StatusCode::OK {
            break;
        }
        assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the dropped stream's slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refusal_says_why_and_when_to_try_again() {
    let s = setup(vec![("LINK_MAX_MODEL_CALLS_PER_USER", "1".into())]).await;
    let alice = s.server.token("alice").await;
    let id = s.server.conversation(&alice, "Scheherazade").await;
    let mut first = stream(&s, &alice, &id, SLOW).await;
    first_delta(&mut first).await;
    // Reads are no model calls: they pass while the stream runs.
    let list = Client::new()
        .get(format!("{}/v1/conversations", s.server.url))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let refused = stream(&s, &alice, &id, "and now?").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 1 per user"), "{message}");
}
