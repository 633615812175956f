//! Character cards on the page, in headless Chromium: a PNG card dropped on the sidebar starts
//! a conversation with the card's character; the file picker takes a JSON card; the persona
//! card dialog exports the PNG. Screenshots land in `target/artifacts/` (or
//! `$LINK_ARTIFACTS_DIR`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use link::card::png;
use link::{CharacterCard, Persona, PersonaKind};
use serde_json::{Value, json};
use support::Stack;
use support::browser::Browser;

/// Drops a file of `bytes` named `name` on `#card-drop`, as a user dragging it from a desktop.
const DROP: &str = "const [b64, name, type] = arguments;
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], name, { type }));
    const zone = document.getElementById('card-drop');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    return true;";

/// Gives `#card-file` a file, as the file picker would, and fires its `change` event.
const PICK: &str = "const [text, name] = arguments;
    const data = new DataTransfer();
    data.items.add(new File([text], name, { type: 'application/json' }));
    const input = document.getElementById('card-file');
    input.files = data.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    return true;";

async fn wait_title(browser: &Browser, name: &str) {
    let script = format!(
        "return document.getElementById('chat-title').textContent === {}",
        json!(name)
    );
    browser.wait_js(&script, name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_dropped_or_picked_starts_a_conversation_and_exports_as_png() {
    let s = Stack::start(vec![]).await;
    let browser = Browser::start().await;
    browser.sign_in(&s.server.url, "Ada").await;

    let whiskers = Persona::new(
        "Captain Whiskers",
        PersonaKind::Original,
        "A grumpy pirate who loves cats.",
        "Arr, {{user}}! What brings ye aboard?",
    );
    let image = png::write(&whiskers, None).unwrap();
    let args = vec![
        Value::from(STANDARD.encode(&image)),
        Value::from("whiskers.png"),
        Value::from("image/png"),
    ];
    browser.js(DROP, args).await;
    wait_title(&browser, "Captain Whiskers").await;
    browser
        .wait_js(
            "return [...document.querySelectorAll('#messages li')]
                .some(li => li.textContent.includes('Arr, User! What brings ye aboard?'))",
            "the greeting with the user's name",
        )
        .await;
    browser.screenshot("cards-01-dropped-png").await;

    // The persona card dialog exports the PNG: the same card comes back.
    browser.press("#card-button").await;
    browser
        .wait_js(
            "return document.getElementById('card-dialog').open",
            "the card dialog",
        )
        .await;
    browser.screenshot("cards-02-card-dialog").await;
    let exported = browser
        .js(
            "return (async () => {
             const seen = [];
             const create = URL.createObjectURL, click = HTMLAnchorElement.prototype.click;
             URL.createObjectURL = (blob) => { seen.push(blob); return create(blob); };
             HTMLAnchorElement.prototype.click = function () { seen.push(this.download); };
             document.getElementById('card-export-png').click();
             while (seen.length < 2) await new Promise(r => setTimeout(r, 20));
             URL.createObjectURL = create;
             HTMLAnchorElement.prototype.click = click;
             const bytes = new Uint8Array(await seen[0].arrayBuffer());
             let text = '';
             for (const b of bytes) text += String.fromCharCode(b);
             return [seen[1], seen[0].type, btoa(text)];
             })();",
            vec![],
        )
        .await;
    assert_eq!(exported[0], "Captain_Whiskers.png");
    assert_eq!(exported[1], "image/png");
    let bytes = STANDARD.decode(exported[2].as_str().unwrap()).unwrap();
    let read = png::read(&bytes).unwrap();
    assert_eq!(read.card.to_persona().unwrap(), whiskers);
    browser.press("#card-close").await;

    // The file picker takes a JSON card.
    let holmes = Persona::new(
        "Sherlock Holmes",
        PersonaKind::Fictional,
        "The consulting detective.",
        "You have come about a case, I perceive.",
    );
    let json = serde_json::to_string(&CharacterCard::from_persona(&holmes)).unwrap();
    browser
        .js(PICK, vec![Value::from(json), Value::from("holmes.json")])
        .await;
    wait_title(&browser, "Sherlock Holmes").await;
    let listed = browser
        .js(
            "return [...document.querySelectorAll('#conversations li')].map(li => li.textContent)",
            vec![],
        )
        .await;
    let listed = listed.to_string();
    assert!(
        listed.contains("Sherlock Holmes") && listed.contains("Captain Whiskers"),
        "{listed}"
    );

    // A file that is no card gets a clear notice.
    browser
        .js(
            PICK,
            vec![Value::from("not a card"), Value::from("notes.json")],
        )
        .await;
    browser
        .wait_js(
            "return !document.getElementById('notice').hidden",
            "the notice",
        )
        .await;
    let notice = browser.text("#notice-text").await;
    assert!(
        notice.contains("Card") || notice.contains("card"),
        "{notice}"
    );
    browser.screenshot("cards-03-not-a-card").await;
    browser.finish().await;
}
