//! Moderation end to end through the real `link-server` binary with `LINK_MODERATION=openai`
//! (the mock OpenAI's `/v1/moderations`): a flagged persona or message is refused with 422
//! `content_blocked` naming the categories, never the text, and reaches no chat model; a
//! streamed reply arrives whole, released segment by segment after each one was checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::mock_openai::GRADUAL_REPLY;
use support::{Stack, parse_sse};

fn calls_to(paths: &[String], path: &str) -> usize {
    paths.iter().filter(|p| p.as_str() == path).count()
}

async fn paths(s: &Stack) -> Vec<String> {
    s.mock
        .requests()
        .await
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect()
}

#[tokio::test]
async fn flagged_personas_and_messages_are_refused_and_replies_are_checked() {
    let s = Stack::start(vec![("LINK_MODERATION", "openai".into())]).await;
    let token = s.server.token("alice").await;

    // An extracted persona is checked before the conversation exists.
    let response = Client::new()
        .post(format!("{}/v1/conversations", s.server.url))
        .bearer_auth(&token)
        .json(&json!({"persona_request": "a crowbar bandit"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "content_blocked", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("violence"), "{message}");
    assert!(
        !message.contains("crowbar"),
        "the text was echoed: {message}"
    );

    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let before = calls_to(&paths(&s).await, "/v1/chat/completions");

    // A flagged message is refused before the stream starts and reaches no chat model.
    let response = s
        .server
        .send_streamed(&token, &id, "Hand me the crowbar", "flagged")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "content_blocked", "{body}");
    assert_eq!(
        calls_to(&paths(&s).await, "/v1/chat/completions"),
        before,
        "the flagged message reached the chat model"
    );

    // A clean reply is streamed in checked segments and stored whole.
    let response = s
        .server
        .send_streamed(&token, &id, "Think it over gradually", "clean")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = parse_sse(&response.text().await.unwrap());
    let text: String = events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, GRADUAL_REPLY);
    let deltas = events.iter().filter(|(name, _)| name == "delta").count();
    assert!(deltas < 10, "segments, not tokens: {deltas} deltas");
    assert_eq!(events.last().unwrap().0, "done", "{events:?}");
    let messages = s.server.wait_for_messages(&token, &id, 3).await;
    assert_eq!(messages[2]["content"], GRADUAL_REPLY);
    let moderations = calls_to(&paths(&s).await, "/v1/moderations");
    assert!(moderations >= 6, "{moderations} moderation calls");
}
