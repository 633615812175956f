//! Settings shows "Usage this month" in headless Chromium: each conversation's tokens in and
//! out (a deleted one without its name) and the total, the same figures as
//! `GET /v1/me/usage`, reachable from the keyboard; the per-conversation persona dialog does
//! not show it. A screenshot lands in `target/artifacts/` (or `$LINK_ARTIFACTS_DIR`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Client;
use serde_json::Value;
use support::Stack;
use support::browser::Browser;

async fn get(s: &Stack, token: &str, path: &str) -> Value {
    let response = Client::new()
        .get(format!("{}{path}", s.server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// A count as the page shows it (grouped the browser's way), as a number.
fn count(shown: &Value) -> u64 {
    let digits: String = shown
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// What the usage table shows: one `[name, in, out]` per row, then the total's.
const USAGE_TABLE: &str = "return [...document.querySelectorAll('#usage-rows tr, #usage tfoot tr')]
    .map(tr => [...tr.children].map(cell => cell.textContent));";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_shows_this_months_tokens_per_conversation() {
    let s = Stack::start(vec![("LINK_RATE_LIMIT_PER_MINUTE", "10000".to_owned())]).await;
    let token = s.server.token("Ada").await;
    let holmes = s.server.conversation(&token, "Sherlock Holmes").await;
    let gone = s.server.conversation(&token, "Captain Nemo").await;
    s.server.send(&token, &holmes, "Who did it?").await;
    s.server.send(&token, &holmes, "How?").await;
    s.server.send(&token, &gone, "Where are we?").await;
    let deleted = Client::new()
        .delete(format!("{}/v1/conversations/{gone}", s.server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    let usage = get(&s, &token, "/v1/me/usage").await;
    assert_eq!(
        usage["conversations"].as_array().unwrap().len(),
        2,
        "{usage}"
    );

    let browser = Browser::start().await;
    browser.sign_in(&s.server.url, "Ada").await;
    browser.press("#settings-button").await;
    browser
        .wait_js(
            "return document.getElementById('persona-dialog').open \
             && !document.getElementById('usage').hidden \
             && !document.getElementById('usage-region').hidden",
            "the usage figures in Settings",
        )
        .await;
    let shown = browser.js(USAGE_TABLE, vec![]).await;
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), 3, "two conversations and the total: {shown:?}");
    for (row, line) in shown.iter().zip(usage["conversations"].as_array().unwrap()) {
        let name = line["name"].as_str().unwrap_or("Deleted conversation");
        assert_eq!(row[0], name, "{row}");
        assert_eq!(
            count(&row[1]),
            line["input_tokens"].as_u64().unwrap(),
            "{row}"
        );
        assert_eq!(
            count(&row[2]),
            line["output_tokens"].as_u64().unwrap(),
            "{row}"
        );
    }
    assert_eq!(shown[0][0], "Sherlock Holmes");
    assert_eq!(shown[1][0], "Deleted conversation");
    let total = &shown[2];
    assert_eq!(total[0], "Total");
    assert_eq!(
        count(&total[1]),
        usage["total"]["input_tokens"].as_u64().unwrap()
    );
    assert_eq!(
        count(&total[2]),
        usage["total"]["output_tokens"].as_u64().unwrap()
    );
    let month = usage["month"].as_str().unwrap();
    let status = browser.text("#usage-status").await;
    assert!(status.contains(month), "{status}");

    // The table is a focusable region, so a keyboard can reach and scroll it.
    browser.press("#usage-region").await;
    browser.screenshot("usage-01-settings").await;

    // The conversation's own persona dialog is not where usage is shown.
    browser.press("#persona-close").await;
    browser
        .wait_js(
            "return !document.getElementById('persona-dialog').open",
            "the dialog closed",
        )
        .await;
    browser.click("#conversations li:first-child .open").await;
    browser
        .wait_js(
            "return !document.getElementById('here-button').hidden",
            "the open conversation",
        )
        .await;
    browser.press("#here-button").await;
    browser
        .wait_js(
            "return document.getElementById('persona-dialog').open",
            "the conversation's persona dialog",
        )
        .await;
    let hidden = browser
        .js("return document.getElementById('usage').hidden", vec![])
        .await;
    assert_eq!(hidden, true, "usage is in Settings only");
    browser.finish().await;
}
