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
use link_server::state::{AppState, DevTokens};
use link_server::{HttpOptions, router};
use serde_json::{Value, json};
use tower::ServiceExt;

fn app() -> axum::Router {
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
        accounts: None,
    };
    router(
        state,
        &HttpOptions {
            max_body_bytes: 65536,
            cors_origins: vec![],
        },
    )
}

fn rest_event(method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> String {
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
    .to_string()
}

fn http_api_event(method: &str, path: &str, token: &str, body: Option<Value>) -> String {
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
    .to_string()
}

async fn call(app: &axum::Router, event: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(event).expect("not an API Gateway event");
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
