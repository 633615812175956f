//! The storage caps against the real binary, set small through the environment: a write
//! over a cap is answered 403 `forbidden` with a message naming the cap and what to do, and
//! deleting a conversation makes room again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use support::Stack;

const BYTES: usize = 2000;

async fn call(
    s: &Stack,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Client::new()
        .request(method, format!("{}{path}", s.server.url))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Checks that the answer is the cap refusal and that its message says `words`.
fn assert_refused((status, body): (StatusCode, Value), words: &[&str]) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("storage limit reached"), "{message}");
    for word in words {
        assert!(message.contains(word), "{message:?} must say {word:?}");
    }
}

fn send(content: &str) -> Option<Value> {
    Some(json!({"content": content}))
}

#[tokio::test]
async fn writes_over_a_cap_are_refused_with_403_until_room_is_made() {
    let s = Stack::start(vec![
        ("LINK_RATE_LIMIT_PER_MINUTE", "1000".to_owned()),
        ("LINK_MAX_CONVERSATIONS_PER_USER", "1".to_owned()),
        ("LINK_MAX_MESSAGES_PER_CONVERSATION", "3".to_owned()),
        ("LINK_MAX_STORED_BYTES_PER_USER", BYTES.to_string()),
    ])
    .await;
    let alice = s.server.token("alice").await;
    let id = s.server.conversation(&alice, "Sherlock Holmes").await;
    let messages = format!("/v1/conversations/{id}/messages");

    // The conversation cap: a second conversation, created or forked.
    let create = Some(json!({"persona_request": "Ada Lovelace"}));
    let second = call(
        &s,
        &alice,
        Method::POST,
        "/v1/conversations",
        create.clone(),
    )
    .await;
    assert_refused(
        second,
        &["conversations per user: 1 of 1", "delete conversations"],
    );
    let fork = format!("/v1/conversations/{id}/fork");
    assert_refused(
        call(&s, &alice, Method::POST, &fork, Some(json!({}))).await,
        &["delete"],
    );

    // The message cap: a greeting and one turn fill three messages.
    let (status, _) = call(&s, &alice, Method::POST, &messages, send("Who are you?")).await;
    assert_eq!(status, StatusCode::OK);
    let over = call(&s, &alice, Method::POST, &messages, send("And then?")).await;
    assert_refused(over, &["messages in this conversation: 3 of 3"]);
    let streamed = s
        .server
        .send_streamed(&alice, &id, "And then?", "caps")
        .await;
    let status = streamed.status();
    assert_refused(
        (status, streamed.json().await.unwrap()),
        &["messages in this conversation: 3 of 3"],
    );
    let stored = s.server.read(&alice, &id).await;
    assert_eq!(
        stored["messages"].as_array().unwrap().len(),
        3,
        "nothing stored"
    );

    // The byte cap: bob's message fills his bytes to the cap, the reply takes him over, and
    // a new version of the reply is refused.
    let bob = s.server.token("bob").await;
    let bobs = s.server.conversation(&bob, "Sherlock Holmes").await;
    let greeting = s.server.read(&bob, &bobs).await["messages"][0]["content"]
        .as_str()
        .unwrap()
        .len();
    let fill = "x".repeat(BYTES - greeting);
    let bobs_messages = format!("/v1/conversations/{bobs}/messages");
    let (status, _) = call(&s, &bob, Method::POST, &bobs_messages, send(&fill)).await;
    assert_eq!(status, StatusCode::OK);
    let regenerate = format!("/v1/conversations/{bobs}/regenerate");
    let refused = call(&s, &bob, Method::POST, &regenerate, None).await;
    assert_refused(
        refused,
        &[
            &format!(" of {BYTES})"),
            "bytes of messages per user",
            "delete conversations",
        ],
    );

    // Deleting makes room.
    let path = format!("/v1/conversations/{id}");
    let (status, _) = call(&s, &alice, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&s, &alice, Method::POST, "/v1/conversations", create).await;
    assert_eq!(status, StatusCode::CREATED);
}
