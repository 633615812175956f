//! Cognito account flows against a real emulator: the `link-server` binary in Cognito mode,
//! its Cognito client pointed at moto_server through `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`,
//! an app client with a secret (so every secret hash is checked by moto). Needs moto[server]
//! and boto3 (scripts/setup.d/20-moto.sh); fails, not skips, without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::Stack;
use support::moto::{Moto, cognito_env, create_pool};

const PASSWORD: &str = "Correct-Horse-9-Battery";
const EMAIL: &str = "ada.lovelace@example.com";

struct Setup {
    stack: Stack,
    _moto: Moto,
}

async fn setup(account_limit: u32) -> Setup {
    setup_with(account_limit, vec![]).await
}

async fn setup_with(account_limit: u32, extra: Vec<(&'static str, String)>) -> Setup {
    let moto = Moto::start();
    let pool = create_pool(&moto);
    let mut env = cognito_env(&moto, &pool, account_limit);
    env.extend(extra);
    let stack = Stack::start(env).await;
    Setup { stack, _moto: moto }
}

async fn post(s: &Setup, path: &str, body: Value) -> reqwest::Response {
    Client::new()
        .post(format!("{}{path}", s.stack.server.url))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Posts `body` to `path`; the status and error code of the refusal.
async fn refusal(s: &Setup, path: &str, body: Value) -> (StatusCode, String) {
    failure(post(s, path, body).await).await
}

/// The status and error code of a failed call.
async fn failure(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].is_string(), "{body}");
    (status, body["error"]["code"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_confirm_sign_in_call_the_api_and_refresh() {
    let s = setup(50).await;
    let mode: Value = Client::new()
        .get(format!("{}/v1/auth/mode", s.stack.server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mode, json!({"mode": "cognito"}));
    let dev = post(&s, "/v1/auth/token", json!({"username": "ada"})).await;
    assert_eq!(dev.status(), StatusCode::NOT_FOUND);

    // Sign up: a weak password is refused with the policy, a good one accepted, twice not.
    assert_eq!(
        refusal(
            &s,
            "/v1/auth/signup",
            json!({"username": "ada", "password": "short", "email": EMAIL}),
        )
        .await,
        (StatusCode::BAD_REQUEST, "invalid_password".into())
    );
    let signup = json!({"username": "ada", "password": PASSWORD, "email": EMAIL});
    let created = post(&s, "/v1/auth/signup", signup.clone()).await;
    assert_eq!(created.status(), StatusCode::OK);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created, json!({"user_confirmed": false}));
    assert_eq!(
        refusal(&s, "/v1/auth/signup", signup).await,
        (StatusCode::CONFLICT, "user_exists".into())
    );

    // Not confirmed yet: sign-in says so.
    let login = json!({"username": "ada", "password": PASSWORD});
    assert_eq!(
        refusal(&s, "/v1/auth/login", login.clone()).await,
        (StatusCode::FORBIDDEN, "not_confirmed".into())
    );

    // Confirm. moto accepts any code for a real user; an unknown user is a wrong code.
    assert_eq!(
        refusal(
            &s,
            "/v1/auth/confirm",
            json!({"username": "nobody", "code": "123456"}),
        )
        .await,
        (StatusCode::BAD_REQUEST, "wrong_code".into())
    );
    let confirmed = post(
        &s,
        "/v1/auth/confirm",
        json!({"username": "ada", "code": "123456"}),
    )
    .await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);

    // Sign in: a wrong password is refused, the right one gives tokens.
    assert_eq!(
        refusal(
            &s,
            "/v1/auth/login",
            json!({"username": "ada", "password": "Not-The-Password-1"}),
        )
        .await,
        (StatusCode::UNAUTHORIZED, "wrong_credentials".into())
    );
    let tokens = post(&s, "/v1/auth/login", login).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let tokens: Value = tokens.json().await.unwrap();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(tokens["access_token"].as_str().unwrap().len() > 20);
    assert!(tokens["expires_in"].as_u64().unwrap() > 0);

    // The issued ID token works on the API.
    let conversation = Client::new()
        .post(format!("{}/v1/conversations", s.stack.server.url))
        .bearer_auth(&id_token)
        .json(&json!({"persona_request": "Sherlock Holmes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(conversation.status(), StatusCode::CREATED);

    // Refresh: with a client secret the username is needed; a bad token is refused.
    assert_eq!(
        refusal(
            &s,
            "/v1/auth/refresh",
            json!({"refresh_token": refresh_token}),
        )
        .await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
    assert_eq!(
        refusal(
            &s,
            "/v1/auth/refresh",
            json!({"refresh_token": "not-a-refresh-token", "username": "ada"}),
        )
        .await,
        (StatusCode::UNAUTHORIZED, "unauthorized".into())
    );
    let refreshed = post(
        &s,
        "/v1/auth/refresh",
        json!({"refresh_token": refresh_token, "username": "ada"}),
    )
    .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert!(refreshed.get("refresh_token").is_none());
    let fresh = refreshed["id_token"].as_str().unwrap();
    let list: Value = Client::new()
        .get(format!("{}/v1/conversations", s.stack.server.url))
        .bearer_auth(fresh)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);

    // Nothing secret reached the log.
    let logs = s.stack.server.logs().join("\n");
    for secret in [PASSWORD, EMAIL, &id_token, &refresh_token, fresh] {
        assert!(!logs.contains(secret), "the log holds a secret");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_requests_are_rate_limited_per_ip() {
    let s = setup(3).await;
    let login = json!({"username": "ghost", "password": PASSWORD});
    for _ in 0..3 {
        let refused = post(&s, "/v1/auth/login", login.clone()).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = post(&s, "/v1/auth/login", login).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        failure(limited).await,
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into())
    );
}

/// Logs in as `user` (who does not exist) from behind `forwarded` (an `X-Forwarded-For`
/// value); the status.
async fn login_as(s: &Setup, user: &str, forwarded: &str) -> StatusCode {
    Client::new()
        .post(format!("{}/v1/auth/login", s.stack.server.url))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_address_counts_only_behind_a_trusted_proxy() {
    // No trusted proxy: eleven logins claiming eleven addresses are one client, the peer.
    // (Each as another user, so that only the per-IP limit can refuse.)
    let s = setup(10).await;
    for n in 0..10 {
        let status = login_as(&s, &format!("ghost{n}"), &format!("198.51.100.{n}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let eleventh = login_as(&s, "ghost10", "198.51.100.99").await;
    assert_eq!(eleventh, StatusCode::TOO_MANY_REQUESTS);

    // Behind a trusted proxy (the loopback peer here), each forwarded client has its own
    // bucket; IPv6 addresses of one /64 share one.
    let trusted = vec![("LINK_TRUSTED_PROXIES", "127.0.0.0/8,::1/128".into())];
    let s = setup_with(2, trusted).await;
    let attempts = [
        ("203.0.113.7", StatusCode::UNAUTHORIZED),
        ("203.0.113.7", StatusCode::UNAUTHORIZED),
        ("203.0.113.7", StatusCode::TOO_MANY_REQUESTS),
        ("203.0.113.8", StatusCode::UNAUTHORIZED),
        ("2001:db8:1:2::1", StatusCode::UNAUTHORIZED),
        ("2001:db8:1:2::2", StatusCode::UNAUTHORIZED),
        ("2001:db8:1:2::3", StatusCode::TOO_MANY_REQUESTS),
    ];
    for (n, (forwarded, expected)) in attempts.into_iter().enumerate() {
        let status = login_as(&s, &format!("caller{n}"), forwarded).await;
        assert_eq!(status, expected, "login {n} from {forwarded}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_username_is_limited_whatever_the_address() {
    // Behind a trusted proxy every login comes from another address, all for one username.
    let trusted = vec![("LINK_TRUSTED_PROXIES", "127.0.0.0/8,::1/128".into())];
    let s = setup_with(3, trusted).await;
    for n in 0..3 {
        let status = login_as(&s, "ada", &format!("198.51.100.{n}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_as(&s, "Ada", "198.51.100.50").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the fourth guess at one account is refused from a fresh address"
    );
    assert_eq!(
        login_as(&s, "grace", "198.51.100.51").await,
        StatusCode::UNAUTHORIZED,
        "another account is not"
    );
}
