//! Safe by default under hostile input, against the real binary: dev auth only where nobody
//! else can reach it unless asked for (and then loudly), dev tokens rate limited per client IP
//! and never cached, and a CORS wildcard refused at start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};
use support::moto::{Moto, cognito_env, create_pool};
use support::{Options, Server, Stack, temp_database};

/// Runs the binary with `env` on top of the test defaults; it must exit, and not cleanly.
fn refusal(env: Vec<(&str, String)>) -> String {
    let (_dir, database) = temp_database();
    let (status, stderr) = Server::refused(Options {
        database: &database,
        // Never called: the configuration is refused before any provider is built.
        openai_base_url: "http://127.0.0.1:9/v1",
        env,
    });
    assert!(!status.success(), "exited cleanly: {stderr}");
    stderr
}

#[test]
fn implicit_dev_auth_is_refused_off_loopback() {
    let stderr = refusal(vec![("LINK_LISTEN", "0.0.0.0:0".into())]);
    assert!(stderr.contains("LINK_AUTH is unset"), "{stderr}");
    assert!(stderr.contains("0.0.0.0:0"), "{stderr}");
}

#[cfg(feature = "lambda")]
#[test]
fn implicit_dev_auth_is_refused_on_lambda() {
    let stderr = refusal(vec![("LINK_LAMBDA", "true".into())]);
    assert!(stderr.contains("LINK_AUTH is unset"), "{stderr}");
    assert!(stderr.contains("Lambda mode"), "{stderr}");
}

#[test]
fn a_cors_wildcard_is_refused_at_start() {
    let stderr = refusal(vec![("LINK_CORS_ORIGINS", "https://a.example,*".into())]);
    assert!(stderr.contains("LINK_CORS_ORIGINS=*"), "{stderr}");
    assert!(stderr.contains("list the allowed origins"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn explicit_dev_auth_starts_anywhere_and_says_so() {
    let s = Stack::start(vec![
        ("LINK_LISTEN", "0.0.0.0:0".into()),
        ("LINK_AUTH", "dev".into()),
    ])
    .await;
    (s.server)
        .wait_for_log(|line| line.contains("WARN") && line.contains("DEV AUTH IS ON"))
        .await;
    let url = s.server.url.replace("0.0.0.0", "127.0.0.1");
    let ready = Client::new()
        .get(format!("{url}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let warning = body["warning"].as_str().unwrap_or_default();
    assert!(warning.contains("dev auth is on"), "{body}");
}

async fn mint(url: &str) -> reqwest::Response {
    Client::new()
        .post(format!("{url}/v1/auth/token"))
        .json(&json!({"username": "mallory"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn dev_tokens_are_rate_limited_per_ip_and_never_cached() {
    let s = Stack::start(vec![("LINK_ACCOUNT_RATE_LIMIT_PER_MINUTE", "2".into())]).await;
    for _ in 0..2 {
        let minted = mint(&s.server.url).await;
        assert_eq!(minted.status(), StatusCode::OK);
        assert_eq!(minted.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(minted.headers()["ratelimit-limit"], "2");
    }
    let refused = mint(&s.server.url).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "Retry-After {retry_after}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
}

/// Posts `body` to `path` and expects a 200 that no cache may keep; gives back its body.
async fn tokens(url: &str, path: &str, body: Value) -> Value {
    let response = Client::new()
        .post(format!("{url}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "no-store",
        "{path}"
    );
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_sign_in_and_refresh_are_never_cached() {
    let moto = Moto::start();
    let pool = create_pool(&moto);
    let s = Stack::start(cognito_env(&moto, &pool, 50)).await;
    let url = &s.server.url;
    let signup = json!({"username": "ada", "password": "Correct-Horse-9-Battery",
        "email": "ada.lovelace@example.com"});
    let client = Client::new();
    let created = client
        .post(format!("{url}/v1/auth/signup"))
        .json(&signup)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    // moto accepts any code for a real user.
    let confirmed = client
        .post(format!("{url}/v1/auth/confirm"))
        .json(&json!({"username": "ada", "code": "123456"}))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    let login = json!({"username": "ada", "password": signup["password"]});
    let signed_in = tokens(url, "/v1/auth/login", login).await;
    let refresh = json!({"refresh_token": signed_in["refresh_token"], "username": "ada"});
    let refreshed = tokens(url, "/v1/auth/refresh", refresh).await;
    assert!(refreshed["id_token"].is_string(), "{refreshed}");
}
