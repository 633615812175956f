//! A mock upstream for load tests: OpenAI Chat Completions (whole and SSE) and Bedrock
//! Converse / ConverseStream from link-testkit's strict mocks, plus what only the benches
//! need: a JWKS, a token minter, and timing and size knobs, all on one router.
//!
//! Its timing is set by [`Knobs`]: the reply waits `ttft` before its first byte (a whole
//! reply waits `ttft` too, then comes at once), then `gap` between streamed chunks. The reply
//! is `reply_bytes` of text cut into `chunks` pieces, so a client can count lost chunks.
//!
//! Unlike the tests' mocks it accepts any OpenAI key (or none, as OpenAI-compatible local
//! servers do) and checks only the shape of Bedrock signatures: a load harness's clients
//! sign with credentials the mock cannot know.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use link_testkit::openai::{Answer, Ending, MockOpenAi, Stream, completion_of, persona_json};
use serde::Deserialize;
use serde_json::json;

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
/// `POST /model/{id}/converse-stream` (and the other Bedrock operations of the testkit's
/// mock), `GET /jwks.json`, `GET /token?sub=..&ttl=..`, `GET /healthz`.
pub fn router(mock: Arc<Mock>) -> Router {
    let knobs = mock.knobs;
    let (_, openai) = MockOpenAi::setup()
        .any_key()
        .answers(vec![openai_answer(knobs)])
        .router();
    let pieces = knobs.pieces();
    let (_, bedrock) = link_testkit::bedrock::Setup::default()
        .any_secret()
        .speaker(Arc::new(move |_| pieces.clone()))
        .pacing(knobs.ttft, knobs.gap)
        .router();
    Router::new()
        .route("/jwks.json", get(jwks))
        .route("/token", get(token))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(mock)
        .merge(openai)
        .merge(bedrock)
}

/// The knobs' reply (a persona for structured-output requests), whole after `ttft` or
/// streamed with the knobs' timing.
fn openai_answer(knobs: Knobs) -> Answer {
    Arc::new(move |body| {
        if body["stream"] == true {
            let stream = Stream {
                pieces: knobs.pieces(),
                gap: knobs.gap,
                first: knobs.ttft,
                finish: "stop",
                ending: Ending::Complete,
            };
            return stream.reply(body);
        }
        let content = if body.get("response_format").is_some() {
            persona_json().to_string()
        } else {
            knobs.reply()
        };
        completion_of(&content, "stop").set_delay(knobs.ttft)
    })
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
