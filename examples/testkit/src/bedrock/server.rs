//! The mock server: routes, request recording and the checks every operation shares
//! (SigV4, JSON body, the model id percent-encoded in the path).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::Region;
use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::post;
use serde_json::Value;

use super::errors::error;
use super::sigv4::{Signing, TEST_SECRET, verify};
use super::{converse, guardrail, invoke};

/// The region the mock's client signs for.
pub const REGION: &str = "us-east-1";

/// What the model says to the last user text, a stream chunk a piece.
pub type Speaker = Arc<dyn Fn(&str) -> Vec<String> + Send + Sync>;

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `converse`, `converse-stream`, `invoke` or `apply-guardrail`.
    pub operation: &'static str,
    /// The path as sent (percent-encoded).
    pub raw_path: String,
    /// The headers.
    pub headers: HeaderMap,
    /// The JSON body.
    pub body: Value,
}

/// How a mock is set up.
#[derive(Clone)]
pub struct Setup {
    pub(crate) signing: Signing,
    pub(crate) speaker: Speaker,
    pub(crate) first: Duration,
    pub(crate) gap: Duration,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            signing: Signing {
                region: REGION.to_owned(),
                secret: Some(TEST_SECRET.to_owned()),
            },
            speaker: Arc::new(|last| {
                format!("You said: {last}")
                    .split_inclusive(' ')
                    .map(str::to_owned)
                    .collect()
            }),
            first: Duration::ZERO,
            gap: Duration::ZERO,
        }
    }
}

impl Setup {
    /// Checks only the shape of signatures, for clients whose secret the mock cannot know.
    pub fn any_secret(mut self) -> Self {
        self.signing.secret = None;
        self
    }

    /// The model's replies come from `speaker` (the default echoes "You said: ...").
    pub fn speaker(mut self, speaker: Speaker) -> Self {
        self.speaker = speaker;
        self
    }

    /// Waits `first` before a reply's first byte and `gap` between streamed events.
    pub fn pacing(mut self, first: Duration, gap: Duration) -> Self {
        self.first = first;
        self.gap = gap;
        self
    }

    /// The routes, to serve beside others (the benches' upstream does), and their state.
    pub fn router(self) -> (Arc<MockState>, Router) {
        let state = Arc::new(MockState {
            setup: self,
            requests: Mutex::new(Vec::new()),
            calls: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route("/model/{model}/converse", post(converse::converse))
            .route(
                "/model/{model}/converse-stream",
                post(converse::converse_stream),
            )
            .route("/model/{model}/invoke", post(invoke::invoke))
            .route(
                "/guardrail/{id}/version/{version}/apply",
                post(guardrail::apply_guardrail),
            )
            .with_state(state.clone());
        (state, app)
    }

    /// Starts the mock on a free loopback port and a client pointed at it (test credentials,
    /// fast retries).
    pub async fn start(self) -> Mock {
        let (state, app) = self.router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let url = format!("http://{addr}");
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&url)
            .region(Region::new(REGION))
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
        Mock { client, url, state }
    }
}

/// What the routes share.
pub struct MockState {
    pub(crate) setup: Setup,
    requests: Mutex<Vec<Recorded>>,
    calls: Mutex<HashMap<String, usize>>,
}

/// A running mock and a client pointed at it.
pub struct Mock {
    /// A Bedrock Runtime client for this mock.
    pub client: aws_sdk_bedrockruntime::Client,
    /// `http://127.0.0.1:PORT`, the endpoint URL of the client.
    pub url: String,
    state: Arc<MockState>,
}

impl Mock {
    /// A mock set up by default, and its client.
    pub async fn start() -> Self {
        Setup::default().start().await
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

/// An accepted request: its model's call count, its JSON body and its headers.
pub type Accepted = (usize, Value, HeaderMap);

/// Reads, counts and records a request of `operation` on `model` (a guardrail id for
/// ApplyGuardrail), then checks what every operation checks.
pub async fn receive(
    state: &MockState,
    operation: &'static str,
    model: &str,
    request: Request,
) -> Result<Accepted, Box<Response>> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| Box::new(error(400, "ValidationException", &e.to_string())))?;
    let incoming = Incoming {
        operation,
        model,
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
        body: &body,
    };
    let (count, json) = record(state, incoming)?;
    Ok((count, json, parts.headers))
}

/// One incoming request.
struct Incoming<'a> {
    operation: &'static str,
    model: &'a str,
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: &'a Bytes,
}

/// Counts and records `request`, then checks what every operation checks; gives the call
/// count for its model and the JSON body, or the error answer.
fn record(state: &MockState, request: Incoming<'_>) -> Result<(usize, Value), Box<Response>> {
    let count = {
        let mut calls = state.calls.lock().unwrap();
        let count = calls.entry(request.model.to_owned()).or_default();
        *count += 1;
        *count
    };
    let body: Value = serde_json::from_slice(request.body).map_err(|e| {
        Box::new(error(
            400,
            "ValidationException",
            &format!("body is not JSON: {e}"),
        ))
    })?;
    state.requests.lock().unwrap().push(Recorded {
        operation: request.operation,
        raw_path: request.uri.path().to_owned(),
        headers: request.headers.clone(),
        body: body.clone(),
    });
    verify(
        &state.setup.signing,
        request.method,
        request.uri,
        request.headers,
        request.body,
    )
    .map_err(|(kind, message)| Box::new(error(403, kind, &message)))?;
    let model = request.model;
    if model.contains(':') && !request.uri.path().contains(&model.replace(':', "%3A")) {
        let problem = "model id not percent-encoded in the path";
        return Err(Box::new(error(400, "ValidationException", problem)));
    }
    Ok((count, body))
}
