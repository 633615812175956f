//! HTTP requests observed: each one counted and timed by route template and status, and run
//! inside a server span named `{method} {route}` (the root of its trace, carrying the request
//! id that its audit line carries too). And `GET /metrics`, the Prometheus text, served on an
//! address of its own (`LINK_METRICS_LISTEN`) so that it never shares the public listener.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body::Body as _;
use http_body::{Frame, SizeHint};
use link::RequestId;
use link_telemetry::otlp::RequestSampler;
use link_telemetry::{Metrics, SPAN_TARGET};
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::request_id::ClientRequestId;

/// What observing a request needs: where it is counted, and whether its trace is kept.
///
/// It runs inside the request-id middleware ([`crate::request_id::middleware`]), not as a
/// layer of its own: axum clones a route's whole service stack below each `from_fn` layer on
/// every request (about 1.4% of a chat turn's instructions for this one). There it sees every
/// answer, a timeout's 504 included, and its span names the request id and is the current
/// span of all the request does (a task the engine spawns in it stays in the trace).
pub struct Observer {
    metrics: Arc<Metrics>,
    /// Decides whether the request's trace is kept, when traces are exported.
    sampler: Option<RequestSampler>,
}

impl Observer {
    /// The observer when metrics (or traces) are on.
    pub fn new(
        metrics: Option<Arc<Metrics>>,
        sampler: Option<RequestSampler>,
    ) -> Option<Arc<Self>> {
        metrics.map(|metrics| Arc::new(Self { metrics, sampler }))
    }

    /// Runs `request` through `next`, counted, timed and in its span.
    pub async fn run(&self, request: Request, next: Next) -> Response {
        let started = Instant::now();
        let method = request.method().clone();
        // The template the router matched, never the path itself (which holds ids).
        let route =
            (request.extensions().get::<MatchedPath>()).map(|path| path.as_str().to_owned());
        let kept = self.sampler.as_ref().is_none_or(RequestSampler::keeps);
        let span = match kept {
            true => request_span(&request, route.as_deref()),
            false => RequestSampler::unsampled_span(),
        };
        let response = next.run(request).instrument(span.clone()).await;
        let status = response.status();
        self.metrics.http_request(
            method.as_str(),
            route.as_deref(),
            status.as_u16(),
            started.elapsed(),
        );
        if span.is_disabled() {
            return response;
        }
        if kept {
            span.record("http.response.status_code", status.as_u16());
            if status.is_server_error() {
                span.record("otel.status_code", "ERROR");
            }
        }
        // A streamed reply goes on after the response started: its body keeps the span
        // open, and what the engine does at its end (storing the turn) happens inside it. A
        // body of known length is already made.
        if response.body().size_hint().exact().is_some() {
            return response;
        }
        response.map(|body| Body::new(InSpan { body, span }))
    }
}

/// The server span of one request, as the HTTP semantic conventions name it, with the
/// request ids the request-id layer gave it.
fn request_span(request: &Request, route: Option<&str>) -> Span {
    let method = request.method().as_str();
    let id = request.extensions().get::<RequestId>();
    let client = request.extensions().get::<ClientRequestId>();
    tracing::debug_span!(
        target: SPAN_TARGET,
        "http",
        otel.name = match route {
            Some(route) => format!("{method} {route}"),
            None => method.to_owned(),
        },
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.route = route,
        http.response.status_code = Empty,
        request_id = id.map(RequestId::as_str),
        client_request_id = client.map(|client| client.0.as_str()),
    )
}

/// A response body polled inside its request's span.
struct InSpan {
    body: Body,
    span: Span,
}

impl http_body::Body for InSpan {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let _entered = this.span.enter();
        Pin::new(&mut this.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Serves `GET /metrics` on `address` in the background; gives back the address taken (for
/// port 0, the one the system chose).
pub async fn serve(address: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    let address = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(metrics);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    if !address.ip().is_loopback() {
        tracing::warn!(
            %address,
            "metrics are served on a non-loopback address: let only your scraper reach it"
        );
    }
    tracing::info!("serving metrics at http://{address}/metrics");
    Ok(address)
}

async fn render(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, Metrics::CONTENT_TYPE)],
        metrics.render(),
    )
}
