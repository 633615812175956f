//! A conversation's avatar and lorebook through the real server: the picture of an imported
//! card is served to its owner only and can be replaced (under the card body limit) or
//! removed; a broken image is a clear 400; the lorebook is read, replaced (the next turn's
//! prompt at the mock upstream holds the entry once the user mentions its key), refused past
//! its bounds with a 422 that changes nothing, and removed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use link::card::png;
use link::{Persona, PersonaKind};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use support::Stack;

fn ada_card() -> Vec<u8> {
    let ada = Persona::new(
        "Ada",
        PersonaKind::Historical,
        "A mathematician.",
        "Good day!",
    );
    png::write(&ada, None).unwrap()
}

async fn import(s: &Stack, token: &str, card: Vec<u8>) -> String {
    let response = Client::new()
        .post(format!("{}/v1/conversations/import", s.server.url))
        .bearer_auth(token)
        .body(card)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn avatar(s: &Stack, token: &str, id: &str) -> reqwest::Response {
    Client::new()
        .get(format!("{}/v1/conversations/{id}/avatar", s.server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn put_avatar(s: &Stack, token: &str, id: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let response = Client::new()
        .put(format!("{}/v1/conversations/{id}/avatar", s.server.url))
        .bearer_auth(token)
        .header("content-type", "image/png")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_imported_picture_is_served_to_its_owner_replaced_and_removed() {
    let s = Stack::start(vec![]).await;
    let (alice, mallory) = (
        s.server.token("alice").await,
        s.server.token("mallory").await,
    );
    let card = ada_card();
    let id = import(&s, &alice, card.clone()).await;

    let served = avatar(&s, &alice, &id).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["cache-control"], "private, no-cache");
    let bytes = served.bytes().await.unwrap();
    assert_eq!(
        bytes.as_ref(),
        png::strip(&card).unwrap(),
        "the card's pixels, no card"
    );
    assert_eq!(
        avatar(&s, &mallory, &id).await.status(),
        StatusCode::NOT_FOUND
    );

    let (status, _) = put_avatar(&s, &mallory, &id, card.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another user cannot set it");
    let (status, error) = put_avatar(&s, &alice, &id, b"GIF89a".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["message"].as_str().unwrap().contains("PNG"),
        "{error}"
    );

    // A picture past the other routes' 64 KB body limit uploads under the card limit.
    let mut big = png::SIGNATURE.to_vec();
    big.resize(100_000, 0);
    let (status, error) = put_avatar(&s, &alice, &id, big).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "read, then refused as broken: {error}"
    );
    let other = Persona::new("Bo", PersonaKind::Original, "x", "Hi");
    let picture = png::write(&other, None).unwrap();
    let (status, _) = put_avatar(&s, &alice, &id, picture.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let bytes = avatar(&s, &alice, &id).await.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), png::strip(&picture).unwrap());

    let (status, _) = s
        .server
        .call(
            &alice,
            Method::DELETE,
            &format!("/v1/conversations/{id}/avatar"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = avatar(&s, &alice, &id).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let error: Value = gone.json().await.unwrap();
    assert_eq!(error["error"]["message"], "the conversation has no avatar");
}

#[tokio::test]
async fn the_owner_edits_the_lorebook_and_the_next_prompt_uses_it() {
    let s = Stack::start(vec![]).await;
    let (alice, mallory) = (
        s.server.token("alice").await,
        s.server.token("mallory").await,
    );
    let id = import(&s, &alice, ada_card()).await;
    let path = format!("/v1/conversations/{id}/lorebook");
    let (status, body) = s.server.call(&alice, Method::GET, &path, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"lorebook": null})));

    let book = json!({
        "name": "Analytical",
        "token_budget": 200,
        "entries": [{"keys": ["Babbage"], "content": "Babbage designed the Analytical Engine.",
                     "insertion_order": 1, "enabled": true, "extensions": {"x": 1}}],
        "extensions": {}
    });
    let (status, body) = s
        .server
        .call(&alice, Method::PUT, &path, Some(book.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["lorebook"]["entries"][0]["extensions"],
        json!({"x": 1}),
        "kept"
    );
    let (_, read) = s.server.call(&alice, Method::GET, &path, None).await;
    assert_eq!(read, body, "read back as stored");
    let (status, _) = s
        .server
        .call(&mallory, Method::PUT, &path, Some(book))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let system = |bodies: Vec<Value>| bodies.last().unwrap()["messages"][0]["content"].to_string();
    s.server.send(&alice, &id, "Good evening.").await;
    assert!(!system(s.mock.bodies().await).contains("Analytical Engine"));
    s.server.send(&alice, &id, "How is Mr Babbage?").await;
    assert!(
        system(s.mock.bodies().await).contains("Analytical Engine"),
        "mentioned"
    );

    let huge = json!({"entries": [{"keys": ["x"], "content": "word ".repeat(2_000)}]});
    let (status, error) = s.server.call(&alice, Method::PUT, &path, Some(huge)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (_, unchanged) = s.server.call(&alice, Method::GET, &path, None).await;
    assert_eq!(unchanged, read, "a refused book changes nothing");
    let (status, _) = s
        .server
        .call(&alice, Method::PUT, &path, Some(json!([1, 2])))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not an object");

    let (status, _) = s.server.call(&alice, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = s.server.call(&alice, Method::GET, &path, None).await;
    assert_eq!(body, json!({"lorebook": null}));
}
