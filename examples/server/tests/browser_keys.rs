//! Settings' "API keys" in headless Chromium: a key made on the page is shown once, works as
//! the bearer token of the OpenAI-compatible API, is listed by name and first characters
//! only, and stops working when revoked on the page. Screenshots land in
//! `target/artifacts/` (or `$LINK_ARTIFACTS_DIR`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Client, StatusCode};
use serde_json::Value;
use support::Stack;
use support::browser::Browser;

/// The status of `GET /v1/models` with `key`, and its body.
async fn models(s: &Stack, key: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .get(format!("{}/v1/models", s.server.url))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_made_in_settings_works_until_it_is_revoked_there() {
    let s = Stack::start(vec![("LINK_RATE_LIMIT_PER_MINUTE", "10000".to_owned())]).await;
    let token = s.server.token("Ada").await;
    let holmes = s.server.conversation(&token, "Sherlock Holmes").await;

    let browser = Browser::start().await;
    browser.sign_in(&s.server.url, "Ada").await;
    browser.press("#settings-button").await;
    browser
        .wait_js(
            "return document.getElementById('persona-dialog').open \
             && !document.getElementById('keys').hidden \
             && document.getElementById('keys-status').textContent === 'No keys yet.'",
            "the empty key list in Settings",
        )
        .await;
    let base = browser.text("#keys-base").await;
    assert_eq!(base, format!("{}/v1", s.server.url));
    browser.type_into("#keys-name", "Open WebUI").await;
    browser.press("#keys-create").await;
    browser
        .wait_js(
            "return !document.getElementById('keys-new').hidden",
            "the new key",
        )
        .await;
    let secret = browser
        .js(
            "return document.getElementById('keys-secret').value",
            vec![],
        )
        .await;
    let secret = secret.as_str().unwrap().to_owned();
    assert!(secret.starts_with("lk_"), "{secret}");
    let listed = browser.text("#keys-list").await;
    assert!(listed.contains("Open WebUI"), "{listed}");
    assert!(
        !listed.contains(&secret),
        "the list never shows the key: {listed}"
    );
    assert!(
        browser
            .js(
                "return document.getElementById('persona-dialog').open",
                vec![]
            )
            .await
            == true,
        "making a key does not close Settings"
    );
    browser.screenshot("keys-01-created").await;

    let (status, body) = models(&s, &secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"][0]["id"], format!("link/{holmes}"));

    browser
        .js("window.confirm = () => true; return true", vec![])
        .await;
    browser.click("#keys-list li button").await;
    browser
        .wait_js(
            "return document.getElementById('keys-status').textContent.startsWith('Revoked')",
            "the key revoked",
        )
        .await;
    browser.screenshot("keys-02-revoked").await;
    let (status, body) = models(&s, &secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "invalid_api_key");
    browser.finish().await;
}
