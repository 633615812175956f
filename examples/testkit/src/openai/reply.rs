//! What the mock sends back for one request: a status, headers and a body that may arrive
//! in paced pieces, stall, or end early. The builder methods mirror wiremock's
//! `ResponseTemplate`, so the adapter tests script answers the way they always did.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures::StreamExt;
use serde_json::Value;

/// How long a stalled stream stays open at most: far beyond any client's idle timeout in a
/// test, yet bounded so that a forgotten connection cannot outlive the test run by much.
pub const STALL_LIMIT: Duration = Duration::from_secs(120);

/// One piece of a body on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes sent as one write.
    Data(Bytes),
    /// A pause before the next piece.
    Wait(Duration),
    /// Silence with the connection held open (until [`STALL_LIMIT`]); what follows is never sent.
    Stall,
}

/// A scripted HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    content_type: Option<String>,
    pieces: Vec<Piece>,
    delay: Duration,
}

impl Reply {
    /// An answer with `status` and an empty body.
    pub fn new(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap(),
            headers: Vec::new(),
            content_type: None,
            pieces: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// The body is `body` as JSON.
    pub fn set_body_json(self, body: Value) -> Self {
        self.set_body_raw(body.to_string(), "application/json")
    }

    /// The body is `body`, sent in one write, with this content type.
    pub fn set_body_raw(self, body: impl Into<Bytes>, content_type: &str) -> Self {
        self.set_body_pieces(vec![Piece::Data(body.into())], content_type)
    }

    /// The body is `pieces`, sent one write at a time with their pauses.
    pub fn set_body_pieces(mut self, pieces: Vec<Piece>, content_type: &str) -> Self {
        self.content_type = Some(content_type.to_owned());
        self.pieces = pieces;
        self
    }

    /// Adds a response header.
    pub fn insert_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        ));
        self
    }

    /// Waits `delay` before the status line goes out.
    pub fn set_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// The pieces of the body.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The body's bytes up to a stall, pauses ignored.
    pub fn body_bytes(&self) -> Vec<u8> {
        self.pieces
            .iter()
            .take_while(|p| **p != Piece::Stall)
            .filter_map(|p| match p {
                Piece::Data(bytes) => Some(bytes.to_vec()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .concat()
    }

    /// The answer as an axum response, once its delay has passed.
    pub async fn into_response(self) -> Response {
        pause(self.delay).await;
        let mut response = Response::new(body_of(self.pieces));
        *response.status_mut() = self.status;
        if let Some(content_type) = &self.content_type {
            response.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_str(content_type).unwrap(),
            );
        }
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// Waits `wait`; not at all for zero (tokio would round a zero sleep up to a timer tick).
pub async fn pause(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

/// A streaming body that writes each data piece on its own, honouring waits and stalls.
fn body_of(pieces: Vec<Piece>) -> Body {
    if let [Piece::Data(bytes)] = pieces.as_slice() {
        return Body::from(bytes.clone());
    }
    let stream = futures::stream::iter(pieces)
        .then(|piece| async move {
            match piece {
                Piece::Data(bytes) => Some(bytes),
                Piece::Wait(wait) => {
                    pause(wait).await;
                    Some(Bytes::new())
                }
                Piece::Stall => {
                    tokio::time::sleep(STALL_LIMIT).await;
                    None
                }
            }
        })
        .take_while(|piece| std::future::ready(piece.is_some()))
        .filter_map(|piece| std::future::ready(piece.filter(|b| !b.is_empty())))
        .map(Ok::<_, Infallible>);
    Body::from_stream(stream)
}
