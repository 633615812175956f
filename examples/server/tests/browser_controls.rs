//! The chat page's controls end to end in headless Chromium: regenerate, switch versions
//! (of the last reply and of the greeting), edit and resend, fork, Stop (a dropped send kept
//! once, offered for regeneration), undo, the user persona in Settings and per conversation,
//! and the conversation list in pages.
//! Every step is pressed from the keyboard and read back through the HTTP API. Screenshots
//! land in `target/artifacts/` (or `$LINK_ARTIFACTS_DIR`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::{Value, json};
use support::Stack;
use support::browser::{Browser, ENTER};
use support::mock_openai::fault::requested_fault;
use support::mock_openai::{
    Answer, Fault, MockOpenAi, Stream, characters, completion_of, last_user_text,
};

/// Numbered replies ("Reply 1.", "Reply 2.", ...) so versions can be told apart; the first
/// message containing "slowly" streams 200 words, one every 50 ms (to be stopped midway); a
/// fault's trigger phrase brings its fault.
fn numbered() -> Answer {
    let count = Arc::new(AtomicUsize::new(0));
    let slow_once = Arc::new(AtomicBool::new(true));
    let otherwise = characters();
    Arc::new(move |body| {
        let slow =
            last_user_text(body).contains("slowly") && slow_once.swap(false, Ordering::SeqCst);
        if body.get("response_format").is_some() || slow || requested_fault(body).is_some() {
            return otherwise(body);
        }
        let text = format!("Reply {}.", count.fetch_add(1, Ordering::SeqCst) + 1);
        if body["stream"] == true {
            return Stream::of(&text).reply(body);
        }
        completion_of(&text, "stop")
    })
}

/// A server whose model numbers its replies, with room for many requests a minute.
async fn stack() -> Stack {
    let setup = MockOpenAi::setup().answers(vec![numbered()]);
    Stack::start_with(
        setup,
        vec![("LINK_RATE_LIMIT_PER_MINUTE", "10000".to_owned())],
    )
    .await
}

/// A browser signed in as `name` with a new conversation with `character` open; the user's
/// API token and the conversation's id.
async fn chat(s: &Stack, name: &str, character: &str) -> (Browser, String, String) {
    let browser = Browser::start().await;
    browser.sign_in(&s.server.url, name).await;
    browser.start_conversation(character).await;
    let id = open_conversation_id(&browser).await;
    (browser, s.server.token(name).await, id)
}

/// `GET path` with `token`: the JSON body (asserting a 200).
async fn get(s: &Stack, token: &str, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", s.server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn messages(s: &Stack, token: &str, id: &str) -> Vec<Value> {
    s.server.read(token, id).await["messages"]
        .as_array()
        .unwrap()
        .clone()
}

fn contents(messages: &[Value]) -> Vec<&str> {
    messages
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect()
}

/// The messages on the page: role (or "missing" for the no-reply note), text, the versions
/// shown ("2/3") and whether it is marked interrupted.
const PAGE_MESSAGES: &str = "return [...document.querySelectorAll('#messages > li')].map(li => ({
    role: li.classList.contains('missing') ? 'missing'
      : li.classList.contains('user') ? 'user' : 'assistant',
    text: li.querySelector('.body').textContent,
    versions: li.querySelector('.where') ? li.querySelector('.where').textContent : null,
    interrupted: li.classList.contains('interrupted'),
    streaming: li.dataset.state === 'streaming'}));";

/// Waits until the page shows no streaming reply and its last message, as stored, says
/// `text`.
async fn wait_for_last(browser: &Browser, text: &str) -> Vec<Value> {
    let script = format!(
        "const items = [...document.querySelectorAll('#messages > li')];
         const last = items[items.length - 1];
         return !!last && !!last.dataset.id
           && !document.getElementById('messages').hasAttribute('aria-busy')
           && last.querySelector('.body').textContent === {};",
        json!(text)
    );
    browser
        .wait_js(&script, &format!("the last message {text:?}"))
        .await;
    page_messages(browser).await
}

async fn page_messages(browser: &Browser) -> Vec<Value> {
    let shown = browser.js(PAGE_MESSAGES, vec![]).await;
    shown.as_array().unwrap().clone()
}

/// The id of the conversation the page has open (marked current in the list). The list is
/// refreshed after the conversation opens, so this waits for the mark.
async fn open_conversation_id(browser: &Browser) -> String {
    const OPEN: &str = "#conversations .open[aria-current=\"true\"]";
    browser
        .wait_js(
            &format!("return !!document.querySelector('{OPEN}')"),
            "a conversation marked current",
        )
        .await;
    let id = browser
        .js(
            "const open = document.querySelector('#conversations .open[aria-current=\"true\"]');
             return open ? open.closest('li').dataset.id : null;",
            vec![],
        )
        .await;
    id.as_str()
        .expect("a conversation is marked current")
        .to_owned()
}

/// Replaces the text of the field `css` selects with `text`, typed.
async fn replace_text(browser: &Browser, css: &str, text: &str) {
    browser
        .js(
            "document.querySelector(arguments[0]).value = ''",
            vec![json!(css)],
        )
        .await;
    if !text.is_empty() {
        browser.type_into(css, text).await;
    }
}

async fn focused_action(browser: &Browser) -> Value {
    browser
        .js(
            "return document.activeElement.dataset.action || null",
            vec![],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_regenerates_switches_versions_edits_and_forks() {
    let s = stack().await;
    let (browser, token, id) = chat(&s, "Ada", "Sherlock Holmes").await;
    browser.type_into("#message", &format!("q1{ENTER}")).await;
    wait_for_last(&browser, "Reply 1.").await;

    // Regenerate: the new reply is shown as version 2 of 2, and the server keeps both.
    browser
        .press("#messages > li:last-child [data-action=regen]")
        .await;
    let shown = wait_for_last(&browser, "Reply 2.").await;
    assert_eq!(shown[2]["versions"], "2/2", "{shown:?}");
    assert_eq!(
        focused_action(&browser).await,
        "regen",
        "focus stays on the reply"
    );
    let stored = messages(&s, &token, &id).await;
    assert_eq!(stored[2]["alternatives"], json!(["Reply 1.", "Reply 2."]));
    assert_eq!(stored[2]["chosen"], 1);
    browser.screenshot("controls-01-regenerated").await;

    // The previous version: chosen on the server; the keyboard moves to the other arrow.
    browser
        .press("#messages > li:last-child [data-action=prev]")
        .await;
    let shown = wait_for_last(&browser, "Reply 1.").await;
    assert_eq!(shown[2]["versions"], "1/2", "{shown:?}");
    assert_eq!(focused_action(&browser).await, "next");
    let stored = messages(&s, &token, &id).await;
    assert_eq!(
        (&stored[2]["content"], &stored[2]["chosen"]),
        (&json!("Reply 1."), &json!(0))
    );

    // Edit the user's message: the editor opens with its text and the focus.
    browser
        .press("#messages > li.user [data-action=edit]")
        .await;
    let editor = "#messages > li.user.editing textarea";
    browser
        .wait_js(
            &format!("return document.activeElement === document.querySelector('{editor}')"),
            "the editor with the focus",
        )
        .await;
    assert_eq!(
        browser
            .js(
                &format!("return document.querySelector('{editor}').value"),
                vec![]
            )
            .await,
        "q1"
    );
    browser.screenshot("controls-02-editing").await;

    // Save & resend, but the reply fails midway: the conversation stays as it was, and the
    // editor opens again with the new text.
    let failing = format!("q1 {}", Fault::MidStreamError.trigger());
    replace_text(&browser, editor, &failing).await;
    browser
        .press("#messages > li.user [data-action=resend]")
        .await;
    browser
        .wait_js(
            &format!(
                "const box = document.querySelector('{editor}');
                 return !document.getElementById('notice').hidden
                   && !!box && box.value === {} && document.activeElement === box",
                json!(failing)
            ),
            "the editor again after the failed resend",
        )
        .await;
    let notice = browser.text("#notice-text").await;
    assert!(
        notice.contains("model service is not answering"),
        "{notice}"
    );
    assert_eq!(
        contents(&messages(&s, &token, &id).await)[1..],
        ["q1", "Reply 1."]
    );
    browser.click("#notice-close").await;

    // Save & resend again: the turn after it is replaced.
    replace_text(&browser, editor, "q1 again").await;
    browser
        .press("#messages > li.user [data-action=resend]")
        .await;
    let shown = wait_for_last(&browser, "Reply 3.").await;
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert_eq!(shown[1]["text"], "q1 again");
    let stored = messages(&s, &token, &id).await;
    assert_eq!(contents(&stored)[1..], ["q1 again", "Reply 3."]);
    assert!(stored[1]["edited_at"].is_string(), "{:?}", stored[1]);
    let q1 = stored[1]["id"].as_str().unwrap().to_owned();

    // Fork at the user's message: the fork opens with its origin and tops the list; it has
    // no reply yet, and the page offers one.
    browser
        .press("#messages > li.user [data-action=fork]")
        .await;
    browser
        .wait_js(
            "return !document.getElementById('chat-origin').hidden",
            "the fork's origin",
        )
        .await;
    // The list is refreshed after the fork opens: wait for the fork at its top, marked current.
    browser
        .wait_js(
            "const first = document.querySelector('#conversations li:first-child .open');
             return !!first && first.getAttribute('aria-current') === 'true'
               && first.textContent.includes('Fork')",
            "the fork first in the list",
        )
        .await;
    let fork_id = open_conversation_id(&browser).await;
    assert_ne!(fork_id, id);
    let shown = page_messages(&browser).await;
    let roles: Vec<&Value> = shown.iter().map(|m| &m["role"]).collect();
    assert_eq!(
        roles,
        [&json!("assistant"), &json!("user"), &json!("missing")]
    );
    let list = get(&s, &token, "/v1/conversations").await;
    let listed = list["conversations"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    let fork = listed.iter().find(|c| c["id"] == fork_id.as_str()).unwrap();
    assert_eq!(
        fork["forked_from"],
        json!({"conversation_id": id, "message_id": q1})
    );
    assert_eq!(
        contents(&messages(&s, &token, &fork_id).await)[1..],
        ["q1 again"]
    );
    browser.screenshot("controls-03-forked").await;
    assert!(
        !browser.phone_screenshot("controls-03-forked-phone").await,
        "the controls make the page wider than a phone"
    );

    // Regenerate in the fork answers its last message; the original stays as it was.
    browser
        .press("#messages > li:last-child [data-action=regen]")
        .await;
    wait_for_last(&browser, "Reply 4.").await;
    assert_eq!(
        contents(&messages(&s, &token, &fork_id).await)[1..],
        ["q1 again", "Reply 4."]
    );
    assert_eq!(
        contents(&messages(&s, &token, &id).await)[1..],
        ["q1 again", "Reply 3."]
    );

    // Delete from the user's message on, once confirmed: only the greeting stays.
    browser
        .press("#messages > li.user [data-action=rewind]")
        .await;
    let question = browser.client.get_alert_text().await.unwrap();
    assert_eq!(
        question,
        "Delete this message and the 1 after it? This cannot be undone."
    );
    browser.client.accept_alert().await.unwrap();
    browser
        .wait_js(
            "return document.querySelectorAll('#messages > li').length === 1",
            "the deleted messages gone",
        )
        .await;
    assert_eq!(messages(&s, &token, &fork_id).await.len(), 1);
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_reply_is_kept_once_and_offered_for_regeneration() {
    let s = stack().await;
    let (browser, token, id) = chat(&s, "Lin", "Ada Lovelace").await;

    // Stop the reply once words have come: the connection is dropped mid-stream.
    browser
        .type_into("#message", &format!("tell it slowly{ENTER}"))
        .await;
    browser
        .wait_js(
            "const m = document.querySelector('#messages > li:last-child');
             return m.dataset.state === 'streaming' && m.textContent.includes('word1')",
            "the reply streaming",
        )
        .await;
    browser.click("#stop-button").await;

    // The page reloads the conversation: the message once, the partial reply interrupted,
    // Regenerate offered; it does not ask for the message to be sent again.
    browser
        .wait_js(
            "const m = document.querySelector('#messages > li:last-child');
             return m.classList.contains('interrupted') && !!m.querySelector('[data-action=regen]')",
            "the interrupted reply",
        )
        .await;
    let notice = browser.text("#notice-text").await;
    assert!(notice.contains("Your message is saved"), "{notice}");
    assert!(!notice.contains("send it again"), "{notice}");
    assert_eq!(
        browser
            .js("return document.getElementById('message').value", vec![])
            .await,
        ""
    );
    let stored = messages(&s, &token, &id).await;
    assert_eq!(stored.len(), 3, "{stored:#?}");
    assert_eq!(stored[1]["content"], "tell it slowly");
    assert_eq!(stored[2]["interrupted"], true);
    let partial = stored[2]["content"].as_str().unwrap().to_owned();
    assert!(partial.starts_with("word0 word1"), "{partial}");
    let shown = page_messages(&browser).await;
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert_eq!(shown[2]["interrupted"], true);
    browser.screenshot("controls-04-interrupted").await;

    // Regenerate replaces the interrupted reply; the partial one stays as a version.
    browser
        .press("#messages > li:last-child [data-action=regen]")
        .await;
    let shown = wait_for_last(&browser, "Reply 1.").await;
    assert_eq!(shown[2]["interrupted"], false);
    let stored = messages(&s, &token, &id).await;
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[2]["interrupted"], false);
    assert_eq!(stored[2]["alternatives"], json!([partial, "Reply 1."]));

    // Undo the turn: gone from the server, its text back in the message box.
    browser.press("#undo-button").await;
    browser
        .wait_js(
            "return document.querySelectorAll('#messages > li').length === 1 \
             && document.getElementById('message').value === 'tell it slowly'",
            "the undone turn",
        )
        .await;
    assert_eq!(messages(&s, &token, &id).await.len(), 1);
    browser.finish().await;
}

/// Fills in the persona dialog and saves it; waits for it to close.
async fn save_persona(browser: &Browser, name: &str, description: &str) {
    replace_text(browser, "#persona-name", name).await;
    replace_text(browser, "#persona-description", description).await;
    browser.press("#persona-form button[type=submit]").await;
    wait_closed(browser).await;
}

async fn wait_closed(browser: &Browser) {
    browser
        .wait_js(
            "return !document.getElementById('persona-dialog').open",
            "the persona dialog closed",
        )
        .await;
}

/// Opens the persona dialog with `button`; what its fields say.
async fn open_persona(browser: &Browser, button: &str) -> Value {
    browser.press(button).await;
    browser
        .wait_js(
            "return document.getElementById('persona-dialog').open \
             && document.activeElement.id === 'persona-name'",
            "the persona dialog",
        )
        .await;
    browser
        .js(
            "return [document.getElementById('persona-title').textContent,
                     document.getElementById('persona-name').value,
                     document.getElementById('persona-description').value]",
            vec![],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_persona_is_set_in_settings_and_per_conversation_and_the_list_pages() {
    let s = stack().await;
    let token = s.server.token("Bo").await;
    // One more than a page of the list (50).
    for n in 0..51 {
        s.server.create(&token, &format!("Character {n}")).await;
    }
    let browser = Browser::start().await;
    browser.sign_in(&s.server.url, "Bo").await;
    let count = "return document.querySelectorAll('#conversations li').length";
    browser
        .wait_js(&format!("{count} === 50"), "the first page")
        .await;
    browser.press("#list-more").await;
    browser
        .wait_js(
            &format!("{count} === 51 && document.getElementById('list-more').hidden"),
            "the second page",
        )
        .await;
    assert_eq!(
        browser
            .js(
                "return document.activeElement.closest('li').dataset.id",
                vec![]
            )
            .await,
        browser
            .js(
                "return document.querySelector('#conversations li:last-child').dataset.id",
                vec![]
            )
            .await,
        "the keyboard goes on at the new item"
    );

    // The default, in Settings.
    let fields = open_persona(&browser, "#settings-button").await;
    assert_eq!(fields, json!(["Who you are", "", ""]));
    save_persona(&browser, "Watson", "A doctor, back from the war.").await;
    let me = get(&s, &token, "/v1/me/persona").await;
    assert_eq!(
        me["user_persona"],
        json!({"name": "Watson", "description": "A doctor, back from the war."})
    );

    // An override in one conversation; the default is untouched.
    browser.click("#conversations li:first-child .open").await;
    browser
        .wait_js(
            "return !document.getElementById('here-button').hidden",
            "the open conversation",
        )
        .await;
    let id = open_conversation_id(&browser).await;
    let fields = open_persona(&browser, "#here-button").await;
    assert_eq!(fields, json!(["Who you are here", "", ""]));
    save_persona(&browser, "Mary", "").await;
    let conversation = s.server.read(&token, &id).await;
    assert_eq!(conversation["user_persona"]["name"], "Mary");
    assert_eq!(
        get(&s, &token, "/v1/me/persona").await["user_persona"]["name"],
        "Watson"
    );
    browser.screenshot("controls-05-persona-saved").await;

    // Back to the default here; then the default cleared.
    let fields = open_persona(&browser, "#here-button").await;
    assert_eq!(fields[1], "Mary");
    browser.press("#persona-clear").await;
    wait_closed(&browser).await;
    assert_eq!(
        s.server.read(&token, &id).await["user_persona"],
        Value::Null
    );
    let fields = open_persona(&browser, "#settings-button").await;
    assert_eq!(
        fields,
        json!(["Who you are", "Watson", "A doctor, back from the war."])
    );
    browser.screenshot("controls-06-settings").await;
    browser.press("#persona-clear").await;
    wait_closed(&browser).await;
    assert_eq!(
        get(&s, &token, "/v1/me/persona").await["user_persona"],
        Value::Null
    );
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_greeting_keeps_its_versions_and_arrows() {
    let s = stack().await;
    let (browser, token, id) = chat(&s, "Eve", "Sherlock Holmes").await;
    let greeting = messages(&s, &token, &id).await[0]["content"].clone();

    // Regenerating a lone greeting gives it a second version.
    browser
        .press("#messages > li:first-child [data-action=regen]")
        .await;
    let shown = wait_for_last(&browser, "Reply 1.").await;
    assert_eq!(shown[0]["versions"], "2/2", "{shown:?}");

    // Once the conversation goes on, the greeting keeps its arrows (not Regenerate).
    browser
        .type_into("#message", &format!("hello{ENTER}"))
        .await;
    wait_for_last(&browser, "Reply 2.").await;
    let first = "#messages > li:first-child";
    let regen = browser
        .js(
            &format!("return !!document.querySelector('{first} [data-action=regen]')"),
            vec![],
        )
        .await;
    assert_eq!(regen, false, "only the last reply regenerates");
    browser.press(&format!("{first} [data-action=prev]")).await;
    browser
        .wait_js(
            &format!(
                "const m = document.querySelector('{first}');
                 return m.querySelector('.where').textContent === '1/2'
                   && m.querySelector('.body').textContent === {greeting}"
            ),
            "the first greeting chosen again",
        )
        .await;
    let stored = messages(&s, &token, &id).await;
    assert_eq!(
        (&stored[0]["content"], &stored[0]["chosen"]),
        (&greeting, &json!(0))
    );
    browser.finish().await;
}
