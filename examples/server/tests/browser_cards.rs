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
    // The list is refreshed after the title changes: wait for both conversations in it.
    browser
        .wait_js(
            "const listed = [...document.querySelectorAll('#conversations li')]
                .map(li => li.textContent).join('\\n');
             return listed.includes('Sherlock Holmes') && listed.includes('Captain Whiskers')",
            "both conversations in the list",
        )
        .await;

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

/// A `width` x `height` PNG of one colour.
fn picture(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let pixels: Vec<u8> = (0..width * height).flat_map(|_| rgb).collect();
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, width, height);
    encoder.set_color(::png::ColorType::Rgb);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

/// Gives `#avatar-file` a PNG, as the file picker would, and fires its `change` event.
const PICK_PICTURE: &str = "const [b64] = arguments;
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'me.png', { type: 'image/png' }));
    const input = document.getElementById('avatar-file');
    input.files = data.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    return true;";

async fn wait_avatar_width(browser: &Browser, width: u32) {
    let script = format!(
        "const img = document.getElementById('card-avatar');
         return !img.hidden && img.complete && img.naturalWidth === {width}"
    );
    browser
        .wait_js(&script, &format!("a picture {width} wide"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_dialog_shows_the_picture_and_lore_and_changes_the_picture() {
    let s = Stack::start(vec![]).await;
    let browser = Browser::start().await;
    browser.sign_in(&s.server.url, "Ada").await;

    let mut card = CharacterCard::from_persona(&Persona::new(
        "Captain Whiskers",
        PersonaKind::Original,
        "A grumpy pirate who loves cats.",
        "Arr!",
    ));
    card.data.character_book = Some(
        serde_json::from_value(json!({"entries": [
        {"keys": ["parrot", "Polly"], "content": "Polly the parrot sits on his shoulder.",
         "enabled": true, "insertion_order": 1, "extensions": {}}]}))
        .unwrap(),
    );
    let persona = card.to_persona().unwrap();
    let image = png::write(&persona, Some(&picture(120, 160, [200, 80, 40]))).unwrap();
    let args = vec![
        Value::from(STANDARD.encode(&image)),
        Value::from("whiskers.png"),
        Value::from("image/png"),
    ];
    browser.js(DROP, args).await;
    wait_title(&browser, "Captain Whiskers").await;
    browser.press("#card-button").await;
    wait_avatar_width(&browser, 120).await;
    let lore = browser.text("#lore-entries").await;
    assert!(
        lore.contains("parrot, Polly") && lore.contains("sits on his shoulder"),
        "{lore}"
    );
    browser.screenshot("cards-04-picture-and-lore").await;

    let other = STANDARD.encode(picture(40, 40, [40, 120, 200]));
    browser.js(PICK_PICTURE, vec![Value::from(other)]).await;
    wait_avatar_width(&browser, 40).await;
    browser.screenshot("cards-05-picture-changed").await;

    browser.press("#avatar-remove").await;
    browser
        .wait_js(
            "return document.getElementById('card-avatar').hidden",
            "the picture removed",
        )
        .await;
    let broken = STANDARD.encode(b"GIF89a");
    browser.js(PICK_PICTURE, vec![Value::from(broken)]).await;
    browser
        .wait_js(
            "return document.getElementById('avatar-status').textContent.includes('PNG')",
            "a clear status for a broken picture",
        )
        .await;
    browser.screenshot("cards-06-broken-picture").await;
    browser.finish().await;
}
