//! The persona card shows what the character remembers and lets the owner correct it, in
//! headless Chromium: the summary the model wrote once turns left a small window, edited in
//! the card, pinned facts added, and an edit over the bound refused with the reason shown.
//! Screenshots land in `target/artifacts/` (or `$LINK_ARTIFACTS_DIR`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::Stack;
use support::browser::Browser;
use support::mock_openai::MockOpenAi;

async fn memory_of(s: &Stack, token: &str, id: &str) -> Value {
    s.server.read(token, id).await["memory"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_persona_card_shows_and_edits_the_memory() {
    let env = vec![
        ("LINK_RATE_LIMIT_PER_MINUTE", "10000".to_owned()),
        ("LINK_CONTEXT_WINDOW", "2048".to_owned()),
    ];
    let s = Stack::start_with(MockOpenAi::setup(), env).await;
    let browser = Browser::start().await;
    browser.sign_in(&s.server.url, "Sam").await;
    browser.start_conversation("Sherlock Holmes").await;
    let token = s.server.token("Sam").await;
    let id = browser
        .wait_js(
            "const open = document.querySelector('#conversations .open[aria-current=\"true\"]');
             return open ? open.closest('li').dataset.id : null;",
            "the open conversation",
        )
        .await;
    let id = id.as_str().unwrap().to_owned();

    // Long turns (through the API, quicker than typing) push the first ones out of the
    // model's window; the summary is written after the replies.
    let long = "The fog on Baker Street was thick that night. ".repeat(20);
    for _ in 0..10 {
        s.server.send(&token, &id, &long).await;
    }
    let memory = s.server.summarised_memory(&token, &id).await;
    let summary = memory["summary"].as_str().unwrap().to_owned();
    assert!(!summary.is_empty(), "{memory}");

    // The card, read fresh: the summary the model wrote.
    browser.press("#card-button").await;
    browser
        .wait_js(
            &format!(
                "return document.getElementById('card-dialog').open \
                 && document.getElementById('memory-summary').value === {}",
                json!(summary)
            ),
            "the memory in the card",
        )
        .await;
    browser.screenshot("memory-01-card").await;

    // Corrected and a fact pinned, from the card.
    set_value(
        &browser,
        "#memory-summary",
        "Sam told Holmes about the hound.",
    )
    .await;
    set_value(
        &browser,
        "#memory-pinned",
        "My name is Sam.\n\nI have a cat called Pixel.",
    )
    .await;
    browser.press("#memory-form button[type=submit]").await;
    browser
        .wait_js(
            "return !document.getElementById('notice').hidden \
             && document.getElementById('notice-text').textContent.includes('remember')",
            "the saved notice",
        )
        .await;
    let memory = memory_of(&s, &token, &id).await;
    assert_eq!(memory["summary"], "Sam told Holmes about the hound.");
    assert_eq!(
        memory["pinned_facts"],
        json!(["My name is Sam.", "I have a cat called Pixel."])
    );
    browser.screenshot("memory-02-saved").await;

    // Over the bound: refused, the reason shown in the card, nothing changed.
    set_value(&browser, "#memory-summary", &"x".repeat(4001)).await;
    browser.press("#memory-form button[type=submit]").await;
    browser
        .wait_js(
            "return document.getElementById('memory-status').textContent.includes('4000')",
            "the refusal in the card",
        )
        .await;
    assert_eq!(memory_of(&s, &token, &id).await, memory);
    browser.screenshot("memory-03-refused").await;
    browser.finish().await;
}

/// Sets a field's text as typing would leave it.
async fn set_value(browser: &Browser, css: &str, text: &str) {
    browser
        .js(
            "const field = document.querySelector(arguments[0]);
             field.value = arguments[1];
             field.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(css), json!(text)],
        )
        .await;
}
