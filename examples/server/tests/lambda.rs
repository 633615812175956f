//! The same router behind AWS Lambda: API Gateway REST (v1) and HTTP API (v2) events, fed
//! to the handler as the Lambda runtime would.
#![cfg(feature = "lambda")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::to_bytes;
use link::Link;
use link::testing::{ScriptedChatModel, ScriptedExtractor};
use link_auth::DevAuthenticator;
use link_server::accounts::Accounts;
use link_server::state::{AppState, DevTokens};
use link_server::{HttpOptions, router};
use serde_json::{Value, json};
use tower::ServiceExt;

fn app() -> axum::Router {
    app_with_accounts(None)
}

fn app_with_accounts(accounts: Option<Arc<Accounts>>) -> axum::Router {
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(ScriptedChatModel::replying(["Elementary."])))
        .build()
        .unwrap();
    let dev = Arc::new(DevAuthenticator::random());
    let state = AppState {
        link,
        auth: dev.clone(),
        dev: Some(DevTokens {
            authenticator: dev,
            lifetime: Duration::from_secs(3600),
        }),
        // The per-IP limit of the source-IP test; none without accounts, as in-process.
        per_ip: accounts
            .as_ref()
            .map(|_| Arc::new(link::per_minute(2).unwrap()) as Arc<dyn link::RateLimiter>),
        accounts,
    };
    router(
        state,
        &HttpOptions {
            max_body_bytes: 65536,
            cors_origins: vec![],
            ..HttpOptions::default()
        },
    )
}

fn rest_event(method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
    let mut headers = json!({"content-type": "application/json", "host": "abc.execute-api.us-east-1.amazonaws.com"});
    if let Some(token) = token {
        headers["authorization"] = json!(format!("Bearer {token}"));
    }
    let multi: serde_json::Map<String, Value> = headers
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    json!({
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": multi,
        "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": {"proxy": path.trim_start_matches('/')}, "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "abc", "stage": "prod",
            "requestId": "req-1", "resourcePath": "/{proxy+}", "httpMethod": method,
            "apiId": "abc", "path": format!("/prod{path}"),
            "identity": {"sourceIp": "203.0.113.1", "userAgent": "test"}
        },
        "body": body.map(|b| b.to_string()), "isBase64Encoded": false
    })
}

fn http_api_event(method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": "application/json", "authorization": format!("Bearer {token}"),
            "host": "abc.execute-api.us-east-1.amazonaws.com"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": "abc.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc", "requestId": "req-2", "routeKey": "$default", "stage": "$default",
            "time": "25/Nov/2026:22:00:00 +0000", "timeEpoch": 1795730400000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "test"}
        },
        "body": body.map(|b| b.to_string()), "isBase64Encoded": false
    })
}

async fn call(app: &axum::Router, event: &Value) -> (u16, Value) {
    let request =
        lambda_http::request::from_str(&event.to_string()).expect("not an API Gateway event");
    let response = link_server::lambda::handler(app.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn rest_and_http_api_events_reach_the_same_routes() {
    let app = app();
    let (status, body) = call(
        &app,
        &rest_event(
            "POST",
            "/v1/auth/token",
            None,
            Some(json!({"username": "alice"})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();

    let create = http_api_event(
        "POST",
        "/v1/conversations",
        &token,
        Some(json!({"persona_request": "Sherlock Holmes"})),
    );
    let (status, created) = call(&app, &create).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();

    let path = format!("/v1/conversations/{id}/messages");
    let (status, reply) = call(
        &app,
        &rest_event("POST", &path, Some(&token), Some(json!({"content": "hi"}))),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["message"]["content"], "Elementary.");

    let (status, list) = call(
        &app,
        &http_api_event("GET", "/v1/conversations", &token, None),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);

    let (status, body) = call(&app, &rest_event("GET", "/v1/conversations", None, None)).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
}

/// A Holmes conversation of alice's with one exchange (three messages): her token and its id.
async fn conversation_with_a_reply(app: &axum::Router) -> (String, String) {
    let mint = rest_event(
        "POST",
        "/v1/auth/token",
        None,
        Some(json!({"username": "alice"})),
    );
    let token = call(app, &mint).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = json!({"persona_request": "Sherlock Holmes"});
    let (_, created) = call(
        app,
        &rest_event("POST", "/v1/conversations", Some(&token), Some(create)),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/conversations/{id}/messages");
    let send = rest_event("POST", &path, Some(&token), Some(json!({"content": "hi"})));
    assert_eq!(call(app, &send).await.0, 200);
    (token, id)
}

#[tokio::test]
async fn a_named_stage_is_stripped_and_the_query_string_kept() {
    let app = app();
    let (token, id) = conversation_with_a_reply(&app).await;
    let path = format!("/v1/conversations/{id}");

    // REST API: the adapter puts the stage (`prod`) in front of `path`.
    let mut rest = rest_event("GET", &path, Some(&token), None);
    let (status, all) = call(&app, &rest).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["messages"].as_array().unwrap().len(), 3);
    rest["queryStringParameters"] = json!({"last": "1"});
    rest["multiValueQueryStringParameters"] = json!({"last": ["1"]});
    let (status, last) = call(&app, &rest).await;
    assert_eq!(status, 200, "{last}");
    assert_eq!(last["messages"], json!([all["messages"][2]]));

    // HTTP API on a named stage: the stage is in rawPath itself.
    let mut http = http_api_event("GET", &format!("/prod{path}"), &token, None);
    http["requestContext"]["stage"] = json!("prod");
    http["requestContext"]["http"]["path"] = http["rawPath"].clone();
    http["rawQueryString"] = json!("last=1");
    let (status, last) = call(&app, &http).await;
    assert_eq!(status, 200, "{last}");
    assert_eq!(last["messages"], json!([all["messages"][2]]));
}

/// A login attempt from `ip` as a REST API event; refused before it reaches Cognito (the
/// body lacks the password), but counted by the per-IP limit first.
fn rest_login(ip: &str) -> Value {
    let mut event = rest_event(
        "POST",
        "/v1/auth/login",
        None,
        Some(json!({"username": "x"})),
    );
    event["requestContext"]["identity"]["sourceIp"] = json!(ip);
    event
}

/// The same as an HTTP API event.
fn http_login(ip: &str) -> Value {
    let mut event = http_api_event(
        "POST",
        "/v1/auth/login",
        "unused",
        Some(json!({"username": "x"})),
    );
    event["requestContext"]["http"]["sourceIp"] = json!(ip);
    event
}

#[tokio::test]
async fn the_per_ip_account_limit_keys_on_api_gateways_source_ip() {
    // Never called: every request here is refused before Cognito would be.
    let accounts = Accounts::connect("us-east-1", "client-id", None).await;
    let app = app_with_accounts(Some(accounts));
    let status = |event: Value| {
        let app = app.clone();
        async move { call(&app, &event).await.0 }
    };
    for _ in 0..2 {
        assert_ne!(status(rest_login("203.0.113.1")).await, 429);
    }
    assert_eq!(status(rest_login("203.0.113.1")).await, 429);
    // Another address has its own bucket, whatever X-Forwarded-For claims.
    let mut other = rest_login("203.0.113.2");
    other["headers"]["x-forwarded-for"] = json!("203.0.113.1");
    other["multiValueHeaders"]["x-forwarded-for"] = json!(["203.0.113.1"]);
    assert_ne!(status(other).await, 429);

    // HTTP API events: `requestContext.http.sourceIp`.
    for _ in 0..2 {
        assert_ne!(status(http_login("198.51.100.9")).await, 429);
    }
    assert_eq!(status(http_login("198.51.100.9")).await, 429);
    assert_ne!(status(http_login("198.51.100.10")).await, 429);
}
