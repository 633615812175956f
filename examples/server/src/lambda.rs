//! Serving AWS Lambda invocations from API Gateway (REST API v1 and HTTP API v2 events) with
//! the same router as the socket server. API Gateway buffers responses, so on Lambda clients
//! should ask for JSON replies rather than Server-Sent Events.

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{Request, Uri};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use tower::ServiceBuilder;
use tower::util::MapRequestLayer;

/// The router as a Lambda handler: the API Gateway stage (`/prod` in `/prod/v1/chat`), which
/// the Lambda adapter keeps in the path, is removed so the routes match on every stage.
pub fn handler(
    app: Router,
) -> impl tower::Service<
    lambda_http::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    ServiceBuilder::new()
        .layer(MapRequestLayer::new(strip_stage))
        .layer(MapRequestLayer::new(source_ip))
        .service(app)
}

/// Runs the Lambda runtime loop with `app` as the handler.
pub async fn run(app: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(handler(app)).await
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
