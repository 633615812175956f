//! The chat page end to end in headless Chromium: the real `link-server` binary with dev
//! auth and the mock OpenAI upstream, driven through ChromeDriver. Screenshots land in
//! `target/artifacts/` (or `$LINK_ARTIFACTS_DIR`). Needs Debian's chromium and
//! chromium-driver (scripts/setup.d/40-chromium.sh); fails, not skips, without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::Stack;
use support::browser::{Browser, ENTER};
use support::mock_openai::{Fault, GRADUAL_REPLY, REPLY};

/// The last assistant message: its text and streaming state.
const LAST_REPLY: &str = "const m = [...document.querySelectorAll('#messages .message.assistant')].pop();
    return m ? {text: m.querySelector('.body').textContent, state: m.dataset.state || null} : null;";

async fn sign_in(browser: &Browser, url: &str, name: &str) {
    browser.client.goto(&format!("{url}/")).await.unwrap();
    browser
        .wait_js(
            "return !document.getElementById('dev-form').hidden",
            "the dev sign-in form",
        )
        .await;
    browser
        .type_into("#dev-name", &format!("{name}{ENTER}"))
        .await;
    browser
        .wait_js(
            "return !document.getElementById('app-view').hidden",
            "the chat view",
        )
        .await;
}

async fn start_conversation(browser: &Browser, character: &str) {
    browser
        .type_into("#character", &format!("{character}{ENTER}"))
        .await;
    browser
        .wait_js(
            "return document.querySelectorAll('#messages .message').length === 1 \
             && !document.getElementById('message').disabled",
            "the greeting",
        )
        .await;
}

/// Samples the streaming reply until it is done: (text lengths seen while streaming, final).
async fn watch_stream(browser: &Browser) -> (Vec<usize>, Value) {
    let mut lengths = Vec::new();
    let started = Instant::now();
    loop {
        let reply = browser.js(LAST_REPLY, vec![]).await;
        match reply["state"].as_str() {
            Some("streaming") => {
                let len = reply["text"].as_str().unwrap().len();
                if lengths.last() != Some(&len) {
                    lengths.push(len);
                }
            }
            Some("done") | Some("failed") => return (lengths, reply),
            _ => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the reply never finished"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_signs_in_streams_resumes_and_deletes() {
    let s = Stack::start(vec![]).await;
    let browser = Browser::start().await;
    let url = &s.server.url;

    sign_in(&browser, url, "Ada").await;
    browser.screenshot("01-signed-in").await;
    start_conversation(&browser, "Sherlock Holmes").await;
    assert_eq!(browser.text("#chat-title").await, "Sherlock Holmes");
    let greeting = browser.js(LAST_REPLY, vec![]).await;
    assert!(
        greeting["text"]
            .as_str()
            .unwrap()
            .starts_with("Good evening. I am Sherlock Holmes."),
        "{greeting}"
    );
    // Keyboard flow: the message box has the focus once the conversation is open.
    let focused = browser.js("return document.activeElement.id", vec![]).await;
    assert_eq!(focused, "message");

    // Enter sends; the reply grows word by word, then completes.
    browser
        .type_into("#message", &format!("Tell me gradually{ENTER}"))
        .await;
    let (lengths, reply) = watch_stream(&browser).await;
    assert_eq!(reply["state"], "done", "{reply}");
    assert!(
        lengths.len() >= 5 && lengths.windows(2).all(|w| w[0] < w[1]),
        "the reply did not grow while streaming: {lengths:?}"
    );
    let expected_text = GRADUAL_REPLY.replace("**", "").replace(['*', '`'], "");
    assert_eq!(
        reply["text"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        expected_text.split_whitespace().collect::<Vec<_>>()
    );
    // Markdown became elements; the markup in the model's text stayed text.
    let rendered = browser
        .js(
            "const b = [...document.querySelectorAll('#messages .assistant .body')].pop();
             return {strong: [...b.querySelectorAll('strong')].map(e => e.textContent),
                     em: [...b.querySelectorAll('em')].map(e => e.textContent),
                     code: [...b.querySelectorAll('code')].map(e => e.textContent),
                     imgs: document.querySelectorAll('#messages img').length};",
            vec![],
        )
        .await;
    assert_eq!(
        rendered,
        json!({"strong": ["think"], "em": ["clues"], "code": ["elementary"], "imgs": 0})
    );
    browser.screenshot("02-streamed-reply").await;

    // The persona card.
    browser.click("#card-button").await;
    browser
        .wait_js(
            "return document.getElementById('card-dialog').open",
            "the card",
        )
        .await;
    assert_eq!(browser.text("#card-name").await, "Sherlock Holmes");
    assert!(
        browser
            .text("#card-fields")
            .await
            .contains("Victorian London")
    );
    browser.screenshot("03-persona-card").await;
    // The export ends in a click on a download link, or in a notice: wait for either.
    browser
        .js(
            "window.exported = null;
             document.addEventListener('click', e => {
               if (e.target.download) window.exported = e.target.download;
             }, true);",
            vec![],
        )
        .await;
    browser.click("#card-export").await;
    let exported = browser
        .wait_js(
            "return window.exported || (!document.getElementById('notice').hidden && 'failed')",
            "the card's download",
        )
        .await;
    assert_eq!(exported, "Sherlock_Holmes.card.json");
    assert_eq!(
        browser
            .js("return document.getElementById('notice').hidden", vec![])
            .await,
        true,
        "exporting the card failed"
    );
    browser.click("#card-close").await;

    // Reload: still signed in; resume the conversation from the list.
    browser.client.refresh().await.unwrap();
    browser
        .wait_js(
            "return document.querySelectorAll('#conversations li').length === 1",
            "the conversation list",
        )
        .await;
    assert!(
        browser
            .text("#conversations li .open")
            .await
            .starts_with("Sherlock Holmes")
    );
    browser.click("#conversations li .open").await;
    browser
        .wait_js(
            "return document.querySelectorAll('#messages .message').length === 3",
            "the resumed messages",
        )
        .await;
    let roles = browser
        .js(
            "return [...document.querySelectorAll('#messages .message')]
                .map(m => m.classList.contains('user') ? 'user' : 'assistant')",
            vec![],
        )
        .await;
    assert_eq!(roles, json!(["assistant", "user", "assistant"]));

    // A phone-sized screen: one column, nothing wider than the viewport.
    let wide = browser.js("return window.innerWidth", vec![]).await;
    browser.client.set_window_size(390, 844).await.unwrap();
    browser
        .wait_js(
            &format!("return window.innerWidth !== {wide}"),
            "the narrow window",
        )
        .await;
    let overflow = browser
        .js(
            "return document.documentElement.scrollWidth > window.innerWidth",
            vec![],
        )
        .await;
    assert_eq!(overflow, false, "the page is wider than a phone screen");
    browser.screenshot("04-phone").await;
    browser.client.set_window_size(1280, 860).await.unwrap();

    // Delete it: gone from the page and from the server.
    browser.click("#conversations li .danger").await;
    browser
        .wait_js(
            "return document.querySelectorAll('#conversations li').length === 0 \
             && !document.getElementById('list-empty').hidden",
            "the emptied list",
        )
        .await;
    assert_eq!(browser.text("#chat-title").await, "No conversation open");
    let token = s.server.token("Ada").await;
    let list: Value = reqwest::Client::new()
        .get(format!("{url}/v1/conversations"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["conversations"], json!([]));

    // A token the server refuses: the page says to sign in again and shows the form.
    browser
        .js(
            "const s = JSON.parse(sessionStorage.getItem('link.session'));
             s.token = 'not-a-token';
             sessionStorage.setItem('link.session', JSON.stringify(s));",
            vec![],
        )
        .await;
    browser.client.refresh().await.unwrap();
    browser
        .wait_js(
            "return !document.getElementById('dev-form').hidden \
             && !document.getElementById('notice').hidden",
            "the sign-in-again message",
        )
        .await;
    assert!(browser.text("#notice-text").await.contains("sign in again"));
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_reports_rate_limits_and_upstream_failures() {
    let s = Stack::start(vec![("LINK_RATE_LIMIT_PER_MINUTE", "8".to_owned())]).await;
    let browser = Browser::start().await;
    // Listing (1), creating (an extraction: 4), listing again (1): 6 of 8.
    sign_in(&browser, &s.server.url, "Grace").await;
    start_conversation(&browser, "Ada Lovelace").await;
    // The upstream fails (a reply: the last 2): the page names the model service, not a raw
    // error.
    let notice = notice_after(&browser, "you are overloaded").await;
    assert!(
        notice.contains("model service is not answering"),
        "{notice}"
    );
    // Over the limit (a reply: 2 more): the retry time from Retry-After is shown.
    browser
        .type_into("#message", &format!("Hello again{ENTER}"))
        .await;
    let notice = browser
        .wait_js(
            "const t = document.getElementById('notice-text').textContent;
             return t.includes('Too many requests') && t",
            "the rate-limit message",
        )
        .await;
    let text = notice.as_str().unwrap();
    let seconds: u64 = text
        .split("Try again in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no retry time in {text:?}"));
    assert!((1..=60).contains(&seconds), "{text}");
    browser.screenshot("05-rate-limited").await;
    browser.finish().await;
}

/// Sends `message` and waits for the notice it brings up; its text.
async fn notice_after(browser: &Browser, message: &str) -> String {
    browser
        .type_into("#message", &format!("{message}{ENTER}"))
        .await;
    let notice = browser
        .wait_js(
            "const n = document.getElementById('notice');
             return !n.hidden && n.textContent.trim()",
            "a notice",
        )
        .await;
    notice.as_str().unwrap().to_owned()
}

/// Sends `message` and waits for the notice the stream's `error` event brings up: the
/// notice's text and the failed reply's text.
async fn stream_failure(browser: &Browser, message: &str) -> (String, String) {
    let notice = notice_after(browser, message).await;
    let reply = browser.js(LAST_REPLY, vec![]).await;
    assert_eq!(reply["state"], "failed", "{reply}");
    browser.click("#notice-close").await;
    let text = reply["text"].as_str().unwrap().to_owned();
    (notice, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_shows_the_error_event_of_a_stream_that_fails_midway() {
    let s = Stack::start(vec![]).await;
    let browser = Browser::start().await;
    sign_in(&browser, &s.server.url, "Lin").await;
    start_conversation(&browser, "Ada Lovelace").await;

    // The upstream breaks after some words: the words stay, marked failed, and the notice
    // speaks of the model service (the event's code `upstream_error`).
    let trigger = Fault::MidStreamError.trigger();
    let (notice, text) = stream_failure(&browser, &format!("please {trigger}")).await;
    assert!(
        notice.contains("model service is not answering"),
        "{notice}"
    );
    assert!(!text.is_empty() && REPLY.starts_with(&text), "{text}");
    browser.screenshot("06-stream-failed").await;

    // The content filter stops a reply (`content_filtered`).
    let trigger = Fault::ContentFilter.trigger();
    let (notice, _) = stream_failure(&browser, &format!("a {trigger}")).await;
    assert!(
        notice.contains("withheld by the content filter"),
        "{notice}"
    );
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_markdown_renderer_builds_elements_and_never_html() {
    let s = Stack::start(vec![]).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("{}/", s.server.url))
        .await
        .unwrap();
    browser
        .wait_js(
            "return typeof window.linkRenderMarkdown === 'function'",
            "the script",
        )
        .await;
    let html = browser
        .js(
            "const d = document.createElement('div');
             window.linkRenderMarkdown(d, arguments[0]);
             return d.innerHTML;",
            vec![json!(
                "<script>alert(1)</script> **b** *i* `<c>`\nnext line\n\n- one\n- **two**\n\n1. x\n2) y"
            )],
        )
        .await;
    assert_eq!(
        html,
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; <strong>b</strong> <em>i</em> \
         <code>&lt;c&gt;</code><br>next line</p><ul><li>one</li><li><strong>two</strong></li></ul>\
         <ol><li>x</li><li>y</li></ol>"
    );
    browser.finish().await;
}
