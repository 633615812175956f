//! Sign-out revokes the Cognito refresh token, from the API and from the page's button.
//!
//! moto (5.2, the emulator the other account tests use) does not implement `RevokeToken`, so
//! the server's Cognito client talks to a local front that speaks Cognito's JSON 1.1 protocol:
//! it answers `RevokeToken` itself (checking the app client's id and secret as Cognito does,
//! and recording the token), refuses a revoked refresh token in `InitiateAuth` with
//! Cognito's `NotAuthorizedException`, and passes every other call to moto unchanged. The
//! server's real SDK call goes over the wire to it. Needs moto[server], boto3 and, for the
//! page, Chromium (scripts/setup.sh); fails, not skips, without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus, header};
use axum::response::{IntoResponse, Response};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::Stack;
use support::browser::{Browser, ENTER};
use support::moto::{Moto, Pool, cognito_env, create_pool};

const PASSWORD: &str = "Correct-Horse-9-Battery";
const TARGET: &str = "AWSCognitoIdentityProviderService.";
const JSON_1_1: &str = "application/x-amz-json-1.1";

/// What the front knows: the pool's app client, moto's address and the tokens revoked so far.
struct Front {
    moto: String,
    client_id: String,
    client_secret: String,
    /// The body of every `RevokeToken` call it accepted.
    revocations: Mutex<Vec<Value>>,
}

impl Front {
    fn revoked(&self, token: &Value) -> bool {
        let revocations = self.revocations.lock().unwrap();
        revocations.iter().any(|call| &call["Token"] == token)
    }

    /// Cognito's `RevokeToken`: the app client must prove itself with its secret.
    fn revoke(&self, call: Value) -> Response {
        if call["ClientId"] != self.client_id.as_str() {
            return cognito_error("ResourceNotFoundException", "no such app client");
        }
        if call["ClientSecret"] != self.client_secret.as_str() {
            return cognito_error("UnauthorizedException", "wrong client secret");
        }
        if !call["Token"].is_string() {
            return cognito_error("InvalidParameterException", "Token is required");
        }
        self.revocations.lock().unwrap().push(call);
        ([(header::CONTENT_TYPE, JSON_1_1)], "{}").into_response()
    }

    /// Passes a call to moto as it came, and its answer back.
    async fn forward(&self, headers: &HeaderMap, body: Bytes) -> Response {
        let mut request = Client::new().post(&self.moto).body(body);
        for (name, value) in headers {
            if name != header::HOST && name != header::CONTENT_LENGTH {
                request = request.header(name.as_str(), value.as_bytes());
            }
        }
        let answer = request.send().await.unwrap();
        let status = AxumStatus::from_u16(answer.status().as_u16()).unwrap();
        let content_type = answer.headers()[header::CONTENT_TYPE.as_str()]
            .to_str()
            .unwrap()
            .to_owned();
        let body = answer.bytes().await.unwrap();
        (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
    }
}

/// An error as Cognito's JSON 1.1 protocol sends it.
fn cognito_error(kind: &str, message: &str) -> Response {
    let body = json!({"__type": kind, "message": message}).to_string();
    (
        AxumStatus::BAD_REQUEST,
        [(header::CONTENT_TYPE, JSON_1_1)],
        body,
    )
        .into_response()
}

async fn serve(State(front): State<Arc<Front>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = (headers.get("x-amz-target"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(TARGET))
        .unwrap_or_default();
    let call: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match target {
        "RevokeToken" => front.revoke(call),
        "InitiateAuth" if front.revoked(&call["AuthParameters"]["REFRESH_TOKEN"]) => {
            cognito_error("NotAuthorizedException", "Refresh Token has been revoked")
        }
        _ => front.forward(&headers, body).await,
    }
}

/// Starts the front for `pool` on moto; its state and URL.
async fn start_front(moto: &Moto, pool: &Pool) -> (Arc<Front>, String) {
    let front = Arc::new(Front {
        moto: format!("{}/", moto.endpoint()),
        client_id: pool.client_id.clone(),
        client_secret: pool.client_secret.clone(),
        revocations: Mutex::default(),
    });
    let app = axum::Router::new()
        .fallback(serve)
        .with_state(front.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (front, url)
}

struct Setup {
    stack: Stack,
    front: Arc<Front>,
    _moto: Moto,
}

/// moto with a pool, the front before it, and the server in Cognito mode talking to the
/// front (the key set still comes from moto).
async fn setup() -> Setup {
    let moto = Moto::start();
    let pool = create_pool(&moto);
    let (front, url) = start_front(&moto, &pool).await;
    let mut env = cognito_env(&moto, &pool, 50);
    env.push(("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", url));
    let stack = Stack::start(env).await;
    Setup {
        stack,
        front,
        _moto: moto,
    }
}

impl Setup {
    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        Client::new()
            .post(format!("{}{path}", self.stack.server.url))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Signs `username` up and confirms the account (moto takes any code).
    async fn account(&self, username: &str) {
        let email = format!("{username}@example.com");
        let body = json!({"username": username, "password": PASSWORD, "email": email});
        assert_eq!(
            self.post("/v1/auth/signup", body).await.status(),
            StatusCode::OK
        );
        let code = json!({"username": username, "code": "123456"});
        assert_eq!(
            self.post("/v1/auth/confirm", code).await.status(),
            StatusCode::NO_CONTENT
        );
    }

    /// The status and error code of refreshing `refresh_token` for `username`.
    async fn refresh(&self, refresh_token: &str, username: &str) -> (StatusCode, Value) {
        let body = json!({"refresh_token": refresh_token, "username": username});
        let answer = self.post("/v1/auth/refresh", body).await;
        let status = answer.status();
        (status, answer.json().await.unwrap())
    }

    /// The `RevokeToken` calls of `token`, once there is one; the bound only fails a test
    /// that waits for a call that never comes.
    async fn revocations_of(&self, token: &str) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let calls: Vec<Value> = (self.front.revocations.lock().unwrap().iter())
                .filter(|call| call["Token"] == token)
                .cloned()
                .collect();
            if !calls.is_empty() {
                return calls;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the refresh token was never revoked"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_revokes_the_refresh_token_at_cognito() {
    let s = setup().await;
    s.account("ada").await;
    let login = json!({"username": "ada", "password": PASSWORD});
    let tokens: Value = s.post("/v1/auth/login", login).await.json().await.unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(s.refresh(&refresh_token, "ada").await.0, StatusCode::OK);

    // A body without the token is refused before Cognito hears of it.
    let empty = s
        .post("/v1/auth/signout", json!({"refresh_token": ""}))
        .await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert!(s.front.revocations.lock().unwrap().is_empty());

    let signed_out = s
        .post("/v1/auth/signout", json!({"refresh_token": refresh_token}))
        .await;
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    let calls = s.revocations_of(&refresh_token).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["ClientId"], s.front.client_id.as_str());
    assert_eq!(calls[0]["ClientSecret"], s.front.client_secret.as_str());

    // The token no longer gets new tokens: the session is over.
    let (status, body) = s.refresh(&refresh_token, "ada").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::UNAUTHORIZED, &json!("unauthorized"))
    );
    let logs = s.stack.server.logs().join("\n");
    assert!(!logs.contains(&refresh_token), "the log holds the token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_sign_out_button_revokes_the_refresh_token() {
    let s = setup().await;
    s.account("grace").await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("{}/", s.stack.server.url))
        .await
        .unwrap();
    browser
        .wait_js(
            "return !document.getElementById('cognito-forms').hidden",
            "the Cognito sign-in form",
        )
        .await;
    browser.type_into("#login-username", "grace").await;
    browser
        .type_into("#login-password", &format!("{PASSWORD}{ENTER}"))
        .await;
    let refresh_token = browser
        .wait_js(
            "const s = JSON.parse(sessionStorage.getItem('link.session') || 'null'); \
             return !document.getElementById('app-view').hidden && s && s.refreshToken",
            "the signed-in page",
        )
        .await;
    let refresh_token = refresh_token.as_str().unwrap().to_owned();
    assert!(s.front.revocations.lock().unwrap().is_empty());

    browser.click("#sign-out").await;
    let calls = s.revocations_of(&refresh_token).await;
    assert_eq!(calls.len(), 1);
    browser
        .wait_js(
            "return !document.getElementById('signin-view').hidden \
             && sessionStorage.getItem('link.session') === null",
            "the sign-in view without a session",
        )
        .await;
    assert_eq!(
        s.refresh(&refresh_token, "grace").await.0,
        StatusCode::UNAUTHORIZED
    );
    browser.finish().await;
}
