//! The router: routes, body limit, CORS, request ids and JSON fallbacks.

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware;
use axum::routing::{delete, get, patch, post};
use axum::{Extension, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;
use crate::routes::{
    account, avatar, cards, chat, controls, conversations, dev_token, health, keys, lorebook, me,
    openai_compat, personas,
};
use crate::state::AppState;
use crate::{admission, openapi, request_id, web};

/// HTTP-level settings.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest card import body (`POST /v1/conversations/import`), in bytes: PNG cards are
    /// commonly 200 KB to 2 MB.
    pub max_card_bytes: usize,
    /// Origins allowed by CORS (none: no CORS headers at all).
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client (none: the peer is the client).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a request, and a streamed reply, may take.
    pub time_limits: crate::timeouts::TimeLimits,
    /// Most model calls (persona extractions, replies, streams) one user may have running at
    /// once; 0 means no cap.
    pub max_model_calls_per_user: usize,
    /// Where requests are counted and timed (none: not observed).
    pub metrics: Option<std::sync::Arc<link_telemetry::Metrics>>,
    /// Whether a request's trace is kept, decided before its span opens (none: every
    /// request opens its server span, and the exporter's sampler decides, if there is one).
    pub sampler: Option<link_telemetry::otlp::RequestSampler>,
    /// The mode of an OpenAI-compatible chat completion that names none.
    pub openai_mode: openai_compat::Mode,
}

/// The body limit of card data (imports, avatars, lorebooks): its own, never below the
/// other routes'.
fn card_limit(options: &HttpOptions) -> usize {
    options.max_card_bytes.max(options.max_body_bytes)
}

/// The whole HTTP application.
pub fn router(state: AppState, options: &HttpOptions) -> Router {
    let users = Router::new()
        .route("/v1/personas", post(personas::extract))
        .route("/v1/personas/{conversation_id}/card", get(cards::export))
        .route(
            "/v1/conversations",
            post(conversations::create).get(conversations::list),
        )
        .route(
            "/v1/conversations/import",
            post(cards::import).layer(DefaultBodyLimit::max(card_limit(options))),
        )
        .route(
            "/v1/conversations/{id}",
            get(conversations::get)
                .patch(conversations::update)
                .delete(conversations::delete),
        )
        .route(
            "/v1/conversations/{id}/avatar",
            get(avatar::get)
                .put(avatar::put)
                .delete(avatar::delete)
                .layer(DefaultBodyLimit::max(card_limit(options))),
        )
        .route(
            "/v1/conversations/{id}/lorebook",
            get(lorebook::get)
                .put(lorebook::put)
                .delete(lorebook::delete)
                .layer(DefaultBodyLimit::max(card_limit(options))),
        )
        .route("/v1/conversations/{id}/messages", post(conversations::send))
        .route(
            "/v1/conversations/{id}/messages/{message_id}",
            patch(controls::edit),
        )
        .route(
            "/v1/conversations/{id}/messages/{message_id}/resend",
            post(controls::resend),
        )
        .route(
            "/v1/conversations/{id}/regenerate",
            post(controls::regenerate),
        )
        .route("/v1/conversations/{id}/rewind", post(controls::rewind))
        .route("/v1/conversations/{id}/fork", post(controls::fork))
        .route(
            "/v1/me/persona",
            get(me::get).put(me::put).delete(me::delete),
        )
        .route("/v1/me/usage", get(me::usage::get))
        .route("/v1/me/keys", post(keys::create).get(keys::list))
        .route("/v1/me/keys/{id}", delete(keys::revoke))
        .route("/v1/chat", post(chat::chat))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admission::users,
        ));
    let accounts = Router::new()
        .route("/v1/auth/signup", post(account::signup))
        .route("/v1/auth/confirm", post(account::confirm))
        .route("/v1/auth/login", post(account::login))
        .route("/v1/auth/refresh", post(account::refresh))
        .route("/v1/auth/signout", post(account::signout))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admission::accounts,
        ));
    let dev = Router::new()
        .route("/v1/auth/token", post(dev_token::mint_dev_token))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admission::dev_tokens,
        ));
    let api = Router::new()
        .merge(dev)
        .route("/v1/auth/mode", get(account::mode))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(openapi::serve))
        .merge(users)
        .merge(openai_compat::router(&state, options.openai_mode))
        .merge(accounts)
        .merge(web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(options.max_body_bytes));
    let api = match cors(&options.cors_origins) {
        Some(cors) => api.layer(cors),
        None => api,
    };
    let proxies = admission::TrustedProxies(options.trusted_proxies.clone().into());
    let model_calls = admission::ModelCalls::new(options.max_model_calls_per_user);
    let app = crate::timeouts::layer(api, options.time_limits)
        .layer(Extension(proxies))
        .layer(Extension(model_calls));
    // The request-id layer is outermost, so that every answer, a timeout's 504 too, carries
    // the request id; it observes the request (metrics, the HTTP span) outside the timeouts.
    let observer = crate::metrics::Observer::new(options.metrics.clone(), options.sampler.clone());
    app.layer(middleware::from_fn_with_state(
        observer,
        request_id::middleware,
    ))
    .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .filter_map(|o| match HeaderValue::from_str(o) {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::warn!(
                    origin = o,
                    "ignoring a CORS origin that is not a header value"
                );
                None
            }
        })
        .collect();
    if origins.is_empty() {
        return None;
    }
    let exposed = [
        HeaderName::from_static(request_id::HEADER),
        HeaderName::from_static(request_id::CLIENT_HEADER),
        header::RETRY_AFTER,
        HeaderName::from_static("ratelimit-limit"),
        HeaderName::from_static("ratelimit-remaining"),
        HeaderName::from_static("ratelimit-reset"),
        HeaderName::from_static(openai_compat::MODE_HEADER),
    ];
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static(request_id::HEADER),
                HeaderName::from_static(openai_compat::MODE_HEADER),
            ])
            .expose_headers(exposed),
    )
}
