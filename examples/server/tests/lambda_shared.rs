//! Two Lambda handler instances (each its own engine, DynamoDB clients and limiter, as two
//! warm Lambda instances have) on one DynamoDB table of a local moto_server: a conversation
//! made through one is continued through the other, and the per-user limit is one count.
#![cfg(feature = "lambda")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::body::to_bytes;
use link::Link;
use link::dynamodb::aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use link::dynamodb::aws_sdk_dynamodb::{Client, Config};
use link::dynamodb::{DynamoRateLimiter, DynamoStore};
use link::testing::{ScriptedChatModel, ScriptedExtractor};
use link_auth::DevAuthenticator;
use link_server::state::{AppState, DevTokens};
use link_server::{HttpOptions, router};
use serde_json::{Value, json};
use support::moto::Moto;
use tower::ServiceExt;

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";
const TABLE: &str = "link-lambda";

fn client(moto: &Moto) -> Client {
    let config = Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    Client::from_conf(config)
}

/// One Lambda instance: its own clients, engine and router, `per_minute` requests a minute.
fn instance(moto: &Moto, per_minute: u32) -> axum::Router {
    let limiter =
        DynamoRateLimiter::new(client(moto), TABLE, per_minute, Duration::from_secs(60)).unwrap();
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(ScriptedChatModel::replying(["Elementary."])))
        .store(Arc::new(DynamoStore::new(client(moto), TABLE)))
        .rate_limiter(Arc::new(limiter))
        .build()
        .unwrap();
    let dev = Arc::new(DevAuthenticator::new(SECRET).unwrap());
    let state = AppState {
        link,
        auth: dev.clone(),
        dev: Some(DevTokens {
            authenticator: dev,
            lifetime: Duration::from_secs(3600),
        }),
        per_ip: None,
        accounts: None,
    };
    router(
        state,
        &HttpOptions {
            max_body_bytes: 65536,
            ..HttpOptions::default()
        },
    )
}

/// An API Gateway HTTP API (v2) event.
fn event(method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
    let mut headers = json!({"content-type": "application/json",
        "host": "abc.execute-api.us-east-1.amazonaws.com"});
    if let Some(token) = token {
        headers["authorization"] = json!(format!("Bearer {token}"));
    }
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": "abc.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc", "requestId": "req", "routeKey": "$default", "stage": "$default",
            "time": "04/Dec/2026:04:00:00 +0000", "timeEpoch": 1796356800000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "test"}
        },
        "body": body.map(|b| b.to_string()), "isBase64Encoded": false
    })
}

async fn call(app: &axum::Router, event: &Value) -> (u16, Value) {
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_lambda_instances_share_conversations_and_the_limit() {
    let moto = Moto::start_serial();
    DynamoStore::create_table(&client(&moto), TABLE)
        .await
        .unwrap();
    // 12 a minute: a start (4) and four replies (2 each) fit, a fifth reply does not.
    let (first, second) = (instance(&moto, 12), instance(&moto, 12));

    let (status, minted) = call(
        &first,
        &event(
            "POST",
            "/v1/auth/token",
            None,
            Some(json!({"username": "alice"})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{minted}");
    let token = minted["token"].as_str().unwrap().to_owned();
    let create = event(
        "POST",
        "/v1/conversations",
        Some(&token),
        Some(json!({"persona_request": "Sherlock Holmes"})),
    );
    let (status, created) = call(&first, &create).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    let send = event(
        "POST",
        &format!("/v1/conversations/{id}/messages"),
        Some(&token),
        Some(json!({"content": "hi"})),
    );
    for (round, app) in [&second, &first, &second, &first].into_iter().enumerate() {
        let (status, reply) = call(app, &send).await;
        assert_eq!(status, 200, "reply {round}: {reply}");
    }
    // The fifth reply is refused on either instance: they count together.
    for app in [&first, &second] {
        let (status, refused) = call(app, &send).await;
        assert_eq!(status, 429, "{refused}");
    }

    // What one instance stored, the other reads.
    let read = event(
        "GET",
        &format!("/v1/conversations/{id}"),
        Some(&token),
        None,
    );
    let (status, _) = call(&first, &read).await;
    // Reading costs 1 and the allowance is spent: wait for it (one every 5 s).
    assert_eq!(status, 429);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (status, conversation) = call(&second, &read).await;
    assert_eq!(status, 200, "{conversation}");
    let users = conversation["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .count();
    assert_eq!(users, 4, "{conversation:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_of_one_instance_is_found_on_the_other() {
    let moto = Moto::start_serial();
    DynamoStore::create_table(&client(&moto), TABLE)
        .await
        .unwrap();
    let (first, second) = (instance(&moto, 100), instance(&moto, 100));
    let (_, minted) = call(
        &second,
        &event(
            "POST",
            "/v1/auth/token",
            None,
            Some(json!({"username": "bob"})),
        ),
    )
    .await;
    let token = minted["token"].as_str().unwrap().to_owned();
    let create = event(
        "POST",
        "/v1/conversations",
        Some(&token),
        Some(json!({"persona_request": "Ada Lovelace"})),
    );
    let (_, created) = call(&first, &create).await;
    let id = created["id"].as_str().unwrap();
    let (status, list) = call(
        &second,
        &event("GET", "/v1/conversations", Some(&token), None),
    )
    .await;
    assert_eq!(status, 200);
    let listed: Vec<_> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [id]);
    let delete = event(
        "DELETE",
        &format!("/v1/conversations/{id}"),
        Some(&token),
        None,
    );
    let (status, _) = call(&second, &delete).await;
    assert!((200..300).contains(&status), "{status}");
    let (status, _) = call(
        &first,
        &event(
            "GET",
            &format!("/v1/conversations/{id}"),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 404);
}
