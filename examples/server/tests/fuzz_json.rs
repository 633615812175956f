//! Request bodies under arbitrary input, in process: every route that takes JSON gets any
//! bytes, any JSON, or objects with the fields the wire types read holding values of any
//! type, with any content type. The answer is never a 5xx and never a panic: a success, or a
//! 4xx with Link's error body (`ApiJson`'s rejections included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::{Request, header};
use link::Link;
use link::testing::{ScriptedChatModel, ScriptedExtractor};
use link_auth::DevAuthenticator;
use link_server::state::{AppState, DevTokens};
use link_server::{HttpOptions, router};
use link_wire::ErrorBody;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

/// Cases in all; each is one request to one route, in process.
const CASES: u32 = 768;

/// The body limit of the app under test, small so that oversize bodies are generated too.
const MAX_BODY: usize = 2048;

/// The routes that read a JSON body; `{id}` is replaced per case.
const ROUTES: [&str; 10] = [
    "/v1/auth/token",
    "/v1/auth/signup",
    "/v1/auth/confirm",
    "/v1/auth/login",
    "/v1/auth/refresh",
    "/v1/personas",
    "/v1/conversations",
    "/v1/conversations/import",
    "/v1/conversations/{id}/messages",
    "/v1/chat",
];

/// The app with a scripted model, dev auth and no limit that the traffic would reach.
fn app(dev: Arc<DevAuthenticator>) -> axum::Router {
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(ScriptedChatModel::replying(["Elementary."])))
        .rate_limiter(Arc::new(link::per_minute(1_000_000).unwrap()))
        .build()
        .unwrap();
    let state = AppState {
        link,
        auth: dev.clone(),
        dev: Some(DevTokens {
            authenticator: dev,
            lifetime: Duration::from_secs(3600),
        }),
        accounts: None,
        per_ip: None,
    };
    let options = HttpOptions {
        max_body_bytes: MAX_BODY,
        ..HttpOptions::default()
    };
    router(state, &options)
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,24}".prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with fields the routes read (and others), holding values of any type.
fn route_shaped() -> impl Strategy<Value = Value> {
    let name = prop::sample::select(vec![
        "username",
        "password",
        "email",
        "code",
        "refresh_token",
        "request",
        "prompt",
        "conversation_id",
        "persona_request",
        "persona",
        "content",
        "spec",
        "spec_version",
        "data",
        "name",
        "greeting",
        "kind",
    ]);
    let value = prop_oneof![
        3 => "\\PC{1,24}".prop_map(Value::from),
        1 => Just(json!("00000000-0000-0000-0000-000000000000")),
        1 => Just(json!("chara_card_v2")),
        2 => any_json(),
    ];
    prop::collection::vec((name, value), 0..5).prop_map(|fields| {
        Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect::<Map<_, _>>(),
        )
    })
}

/// A body: route-shaped JSON, any JSON, any bytes, or something too large.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => route_shaped().prop_map(|v| v.to_string().into_bytes()),
        2 => any_json().prop_map(|v| v.to_string().into_bytes()),
        2 => prop::collection::vec(any::<u8>(), 0..96),
        1 => Just(format!("{{\"content\": \"{}\"}}", "x".repeat(MAX_BODY)).into_bytes()),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        6 => Just(Some("application/json")),
        1 => Just(Some("application/json; charset=utf-8")),
        1 => Just(Some("text/plain")),
        1 => Just(Some("application/vnd.link+json")),
        1 => Just(None),
    ]
}

/// A conversation id for the path: a UUID, or anything.
fn path_id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("00000000-0000-0000-0000-000000000000".to_owned()),
        "[0-9a-f]{32}",
        "[A-Za-z0-9._~-]{0,12}",
    ]
}

#[test]
fn no_request_body_makes_a_server_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dev = Arc::new(DevAuthenticator::random());
    let token = dev.mint_for_username("fuzz").unwrap();
    let app = app(dev);
    let cases = (
        prop::sample::select(ROUTES.to_vec()),
        path_id(),
        body(),
        content_type(),
    );
    let mut runner = TestRunner::new(Config::with_cases(CASES));
    let outcome = runner.run(&cases, |(route, id, body, content_type)| {
        let mut request = Request::post(route.replace("{id}", &id))
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request.body(Body::from(body)).unwrap();
        runtime.block_on(async {
            let response = app.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            prop_assert!(!status.is_server_error(), "{route}: {status} {bytes:?}");
            if status.is_client_error() {
                let error = serde_json::from_slice::<ErrorBody>(&bytes);
                prop_assert!(
                    error.is_ok(),
                    "{route}: {status} without an error body: {bytes:?}"
                );
            } else {
                prop_assert!(
                    serde_json::from_slice::<Value>(&bytes).is_ok(),
                    "{route}: {bytes:?}"
                );
            }
            Ok(())
        })
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
