//! The mock server: every request checked as OpenAI checks it, recorded, and answered by the
//! next scripted [`Answer`] (the last one repeats).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::post;
use link_openai::{OpenAiConfig, OpenAiConfigBuilder, RetryPolicy};
use serde_json::Value;

use super::answer::{Answer, characters};
use super::check::{Policy, check_key, check_request};
use super::{KEY, KNOWN_MODELS, MODEL};

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method.
    pub method: Method,
    /// The path and query.
    pub url: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
}

impl Recorded {
    /// The body as JSON.
    pub fn body_json(&self) -> serde_json::Result<Value> {
        serde_json::from_slice(&self.body)
    }
}

/// What a mock is set up with.
#[derive(Clone)]
pub struct Setup {
    policy: Policy,
    answers: Vec<Answer>,
}

impl Setup {
    /// Accepts only `key` (the default is [`KEY`]).
    pub fn key(mut self, key: &str) -> Self {
        self.policy.key = Some(key.to_owned());
        self
    }

    /// Accepts any request without checking a key, as OpenAI-compatible local servers do.
    pub fn any_key(mut self) -> Self {
        self.policy.key = None;
        self
    }

    /// Makes `model` exist too.
    pub fn model(mut self, model: &str) -> Self {
        self.policy.models.push(model.to_owned());
        self
    }

    /// Answers with `answers` in turn (the last one repeats) instead of [`characters`].
    pub fn answers(mut self, answers: Vec<Answer>) -> Self {
        assert!(!answers.is_empty(), "a script needs at least one answer");
        self.answers = answers;
        self
    }

    /// Starts the mock on a free loopback port, on the test's runtime: it stops when that
    /// runtime ends.
    pub async fn start(self) -> MockOpenAi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mock, app) = self.app(listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        mock
    }

    /// Starts the mock on a thread of its own, for synchronous tests (that drive a binary
    /// while it serves); it serves until the test process ends.
    pub fn start_on_thread(self) -> MockOpenAi {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let (mock, app) = self.app(listener.local_addr().unwrap());
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

    /// The routes of this mock, to serve beside others (the benches' upstream does).
    pub fn router(self) -> (Arc<Shared>, axum::Router) {
        let shared = Arc::new(Shared {
            policy: self.policy,
            answers: self.answers,
            next: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(completions))
            .route("/v1/moderations", post(moderations))
            .with_state(shared.clone());
        (shared, app)
    }

    fn app(self, addr: SocketAddr) -> (MockOpenAi, axum::Router) {
        let (shared, app) = self.router();
        let mock = MockOpenAi {
            base_url: format!("http://{addr}/v1"),
            shared,
        };
        (mock, app)
    }
}

/// The state the routes share.
pub struct Shared {
    policy: Policy,
    answers: Vec<Answer>,
    next: AtomicUsize,
    requests: Mutex<Vec<Recorded>>,
}

/// A running mock of OpenAI's Chat Completions API.
pub struct MockOpenAi {
    /// The base URL with the API version (`http://127.0.0.1:PORT/v1`), as `OPENAI_BASE_URL`.
    pub base_url: String,
    shared: Arc<Shared>,
}

impl MockOpenAi {
    /// A mock accepting [`KEY`] and the [`KNOWN_MODELS`], answering with [`characters`].
    pub fn setup() -> Setup {
        Setup {
            policy: Policy {
                key: Some(KEY.to_owned()),
                models: KNOWN_MODELS.iter().map(|m| (*m).to_owned()).collect(),
            },
            answers: vec![characters()],
        }
    }

    /// Starts a mock answering `answers` in turn (the last one repeats).
    pub async fn start(answers: Vec<Answer>) -> Self {
        Self::setup().answers(answers).start().await
    }

    /// `http://127.0.0.1:PORT`, without the API version.
    pub fn uri(&self) -> &str {
        self.base_url.trim_end_matches("/v1")
    }

    /// How many requests reached it (refused ones included).
    pub fn calls(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    /// Every request so far.
    pub async fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The bodies of every request so far.
    pub async fn bodies(&self) -> Vec<Value> {
        self.requests()
            .await
            .iter()
            .map(|r| r.body_json().unwrap())
            .collect()
    }

    /// A link-openai configuration for this mock: its key, [`MODEL`], tiny backoff.
    pub fn config(&self) -> OpenAiConfig {
        self.builder().build().unwrap()
    }

    /// The builder behind [`MockOpenAi::config`], to change before building.
    pub fn builder(&self) -> OpenAiConfigBuilder {
        OpenAiConfig::builder()
            .api_key(KEY)
            .base_url(&self.base_url)
            .model(MODEL)
            .retry_policy(fast_retries(2))
    }
}

/// A retry policy with millisecond backoff.
pub fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_backoff: std::time::Duration::from_millis(1),
        max_backoff: std::time::Duration::from_millis(4),
        ..RetryPolicy::default()
    }
}

async fn completions(
    State(shared): State<Arc<Shared>>,
    method: Method,
    url: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.requests.lock().unwrap().push(Recorded {
        method,
        url,
        headers: headers.clone(),
        body: body.clone(),
    });
    let reply = match check_request(&shared.policy, &headers, &body) {
        Ok(request) => {
            let n = shared.next.fetch_add(1, Ordering::SeqCst);
            let answer = &shared.answers[n.min(shared.answers.len() - 1)];
            answer(&request)
        }
        Err(refusal) => refusal,
    };
    reply.into_response().await
}

async fn moderations(
    State(shared): State<Arc<Shared>>,
    method: Method,
    url: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.requests.lock().unwrap().push(Recorded {
        method,
        url,
        headers: headers.clone(),
        body: body.clone(),
    });
    let reply = match check_key(&shared.policy, &headers) {
        Ok(()) => super::moderation::answer(&body),
        Err(refusal) => refusal,
    };
    reply.into_response().await
}
