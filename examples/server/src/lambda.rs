//! Serving AWS Lambda invocations with the same router as the socket server, each the way its
//! caller reads it:
//!
//! - API Gateway (REST API v1 and HTTP API v2 events) invokes the function and waits for the
//!   whole response, so it gets a buffered one (an SSE reply arrives whole, at its end);
//! - a Lambda function URL whose invoke mode is `RESPONSE_STREAM` reads the response as it
//!   is written, so it gets a streamed one: the prelude (status, headers), then the body
//!   frame by frame, each SSE `delta` event as soon as the model wrote it.
//!
//! Both come to one function (the reference deployment in `deploy/`), so the choice is made
//! per invocation from the event, not by a setting.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, Uri};
use futures::future::LocalBoxFuture;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use lambda_http::lambda_runtime::{FunctionResponse, StreamResponse};
use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{Adapter, LambdaEvent, RequestExt, StreamAdapter};
use tower::util::MapRequestLayer;
use tower::{Service, ServiceBuilder, ServiceExt};

/// The router as a Lambda handler: the API Gateway stage (`/prod` in `/prod/v1/chat`), which
/// the Lambda adapter keeps in the path, is removed so the routes match on every stage.
pub fn handler(
    app: Router,
) -> impl tower::Service<
    lambda_http::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send + 'static,
> + Clone {
    ServiceBuilder::new()
        .layer(MapRequestLayer::new(strip_stage))
        .layer(MapRequestLayer::new(source_ip))
        .service(app)
}

/// Runs the Lambda runtime loop with `app` as the handler: buffered responses for API
/// Gateway, streamed ones for function URLs (see [`Invocations`]).
pub async fn run(app: Router) -> Result<(), lambda_http::Error> {
    lambda_http::lambda_runtime::run(invocations(app)).await
}

/// The body of a streamed response, frame by frame, as the Lambda runtime sends it.
pub type ChunkStream = BoxStream<'static, Result<Bytes, lambda_http::Error>>;

/// The router's handler as a Lambda runtime service: an invocation from a function URL
/// (invoke mode `RESPONSE_STREAM`) is answered with a streamed response, every other one
/// (API Gateway) with a buffered response, as [`handler`] would answer it.
#[derive(Clone)]
pub struct Invocations<S> {
    inner: S,
}

impl<S> std::fmt::Debug for Invocations<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocations").finish_non_exhaustive()
    }
}

/// The invocations of `app` (stage stripped, source address kept, as [`handler`]).
pub fn invocations(
    app: Router,
) -> Invocations<
    impl Service<
        lambda_http::Request,
        Response = axum::response::Response,
        Error = Infallible,
        Future = impl Send + 'static,
    > + Clone
    + Send
    + 'static,
> {
    Invocations {
        inner: handler(app),
    }
}

/// What the buffered path answers: the response API Gateway reads, made by `lambda_http`'s
/// own adapter (the one `lambda_http::run` uses; public, though hidden from its docs), which
/// knows the REST and HTTP API shapes.
type Buffered<S> = <Adapter<'static, axum::response::Response, S> as Service<
    LambdaEvent<LambdaRequest>,
>>::Response;

impl<S> Service<LambdaEvent<LambdaRequest>> for Invocations<S>
where
    S: Service<lambda_http::Request, Response = axum::response::Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = FunctionResponse<Buffered<S>, ChunkStream>;
    type Error = Infallible;
    // Not `Send`: `lambda_http`'s adapters hold a marker of the (not `Sync`) body type. The
    // runtime awaits each invocation in place, so it need not be.
    type Future = LocalBoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Each call drives its own clone of the router to readiness (`oneshot`).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<LambdaRequest>) -> Self::Future {
        let inner = self.inner.clone();
        if is_function_url(&event.payload) {
            let streamed = StreamAdapter::<'static, S, Body>::from(inner).oneshot(event);
            Box::pin(async move {
                let StreamResponse {
                    metadata_prelude,
                    stream,
                } = streamed.await?;
                let stream: ChunkStream = stream.map_err(lambda_http::Error::from).boxed();
                Ok(FunctionResponse::StreamingResponse(StreamResponse {
                    metadata_prelude,
                    stream,
                }))
            })
        } else {
            let buffered = Adapter::<'static, _, S>::from(inner).oneshot(event);
            Box::pin(async move { Ok(FunctionResponse::BufferedResponse(buffered.await?)) })
        }
    }
}

/// Whether the event came through a Lambda function URL (its domain is
/// `<url-id>.lambda-url.<region>.on.aws`; API Gateway's is `execute-api`). Function URLs
/// send HTTP API v2 events, and only they can read a streamed response.
pub fn is_function_url(event: &LambdaRequest) -> bool {
    match event {
        LambdaRequest::ApiGatewayV2(event) => (event.request_context.domain_name.as_deref())
            .is_some_and(|domain| domain.contains(".lambda-url.")),
        _ => false,
    }
}

fn stage<B>(request: &Request<B>) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.stage.clone(),
        RequestContext::ApiGatewayV2(ctx) => ctx.stage.clone(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// API Gateway's view of the client's address, as the socket server's `ConnectInfo`, so the
/// per-IP account rate limit keys on it there too.
fn source_ip<B>(mut request: Request<B>) -> Request<B> {
    let ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        #[allow(unreachable_patterns)]
        _ => None,
    };
    if let Some(ip) = ip.and_then(|ip| ip.parse::<IpAddr>().ok()) {
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip, 0)));
    }
    request
}

fn strip_stage<B>(mut request: Request<B>) -> Request<B> {
    let Some(stage) = stage(&request).filter(|s| s != "$default") else {
        return request;
    };
    let prefix = format!("/{stage}");
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix(&prefix).filter(|r| r.starts_with('/')) else {
        return request;
    };
    let rewritten = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    if let Ok(uri) = rewritten.parse::<Uri>() {
        *request.uri_mut() = uri;
    }
    request
}
