//! Time limits of one request: its response must start within the request timeout (else a
//! 504 `timeout` error), and a Server-Sent Events reply may then last at most the stream
//! limit, after which it ends with an SSE `error` event `timeout`. Dropping the reply's
//! stream cancels the model call, and the engine stores the partial reply as it does when
//! a client goes away.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use link::Error;
use link_wire::ErrorDetail;
use link_wire::events::ERROR;
use tokio::time::Sleep;

use crate::error::ApiError;

/// How long a request may take.
#[derive(Debug, Clone, Copy)]
pub struct TimeLimits {
    /// Until the response starts: the whole request for a JSON route.
    pub request: Duration,
    /// How long a streamed (SSE) reply may last once it started.
    pub stream: Duration,
}

impl Default for TimeLimits {
    /// The settings' defaults: 120 s to start a response, 300 s for a stream.
    fn default() -> Self {
        Self {
            request: Duration::from_secs(120),
            stream: Duration::from_secs(300),
        }
    }
}

/// `app` with `limits` on every request.
pub fn layer<S: Clone + Send + Sync + 'static>(app: Router<S>, limits: TimeLimits) -> Router<S> {
    app.layer(middleware::from_fn_with_state(limits, limit))
}

async fn limit(State(limits): State<TimeLimits>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limits.request, next.run(request)).await {
        Ok(response) if is_event_stream(&response) => cap_stream(response, limits.stream),
        Ok(response) => response,
        // Dropping the handler's future cancels whatever it waited for (a model call).
        Err(_) => ApiError::from(timeout("request")).into_response(),
    }
}

fn timeout(what: &str) -> Error {
    Error::Timeout {
        what: what.to_owned(),
    }
}

fn is_event_stream(response: &Response) -> bool {
    (response.headers().get(header::CONTENT_TYPE))
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"))
}

fn cap_stream(response: Response, max: Duration) -> Response {
    let (parts, body) = response.into_parts();
    let capped = Capped {
        inner: body,
        deadline: Box::pin(tokio::time::sleep(max)),
        ended: false,
    };
    Response::from_parts(parts, Body::new(capped))
}

/// An SSE body that ends with a `timeout` error event at its deadline. Each frame of the
/// inner body is one whole event, so the error event never lands inside another one.
struct Capped {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    ended: bool,
}

impl http_body::Body for Capped {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.ended = true;
            // Drop the reply's stream now, not when the connection closes: that cancels the
            // model call and has the partial reply stored.
            self.inner = Body::empty();
            tracing::info!("stream reached its time limit (LINK_MAX_STREAM_SECS)");
            return Poll::Ready(Some(Ok(Frame::data(timeout_event()))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// `event: error` with the `timeout` error, as the SSE module writes engine errors.
fn timeout_event() -> Bytes {
    let detail = ErrorDetail::from_error(&timeout("stream"));
    let data = serde_json::to_string(&detail).unwrap_or_else(|_| "{}".to_owned());
    Bytes::from(format!("event: {ERROR}\ndata: {data}\n\n"))
}
