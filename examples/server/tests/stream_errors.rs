//! A failure after the first token reaches the client as the SSE `error` event, end to end
//! through the real `link-server` binary: `delta` events, then `event: error` with the code
//! of the failure and a message that does not repeat what was withheld; nothing of the failed
//! turn is stored (the engine's promise for a turn that did not finish), as the API shows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use link_testkit::bedrock::Mock as MockBedrock;
use serde_json::Value;
use support::mock_openai::{Fault, REPLY};
use support::{Stack, bedrock, parse_sse};

/// The text of the `delta` events before the last event, and that last event.
fn deltas_then_last(events: &[(String, Value)]) -> (String, &(String, Value)) {
    let (last, deltas) = events.split_last().expect("no events at all");
    assert!(!deltas.is_empty(), "no delta before the end: {events:?}");
    assert!(deltas.iter().all(|(name, _)| name == "delta"), "{events:?}");
    let text = deltas
        .iter()
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    (text, last)
}

/// Streams `content` into a new conversation; the text streamed, the final event, and the
/// conversation's messages once the turn's audit line is written.
async fn failed_turn(s: &Stack, content: &str, request_id: &str) -> (String, Value, Vec<Value>) {
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let response = s
        .server
        .send_streamed(&token, &id, content, request_id)
        .await;
    assert_eq!(response.status(), 200, "the stream started");
    let events = parse_sse(&response.text().await.unwrap());
    let (text, (name, error)) = deltas_then_last(&events);
    assert_eq!(name, "error", "{events:?}");
    // The audit is written after the error event: once it is there the turn is over.
    let audit = s.server.wait_for_audit(request_id).await;
    assert!(audit.contains("error"), "{audit}");
    let messages = s.server.read(&token, &id).await["messages"]
        .as_array()
        .unwrap()
        .clone();
    (text, error.clone(), messages)
}

#[tokio::test]
async fn a_mid_stream_upstream_error_is_an_error_event_and_nothing_is_stored() {
    let s = Stack::start(vec![]).await;
    let (text, error, messages) = failed_turn(
        &s,
        &format!("please {}", Fault::MidStreamError.trigger()),
        "mid",
    )
    .await;
    assert!(
        REPLY.starts_with(&text) && text.len() < REPLY.len(),
        "{text}"
    );
    assert_eq!(error["code"], "upstream_error", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("model service failed"), "{message}");
    assert!(
        !message.contains("Sorry about that"),
        "the provider's own words leaked: {message}"
    );
    assert_eq!(messages.len(), 1, "only the greeting: {messages:#?}");
}

/// A streamed turn the content filter stopped: the text streamed and the error event.
async fn filtered_turn(s: &Stack) -> (String, Value) {
    let content = format!("tell me about a {}", Fault::ContentFilter.trigger());
    let (text, error, messages) = failed_turn(s, &content, "filtered").await;
    assert!(REPLY.starts_with(&text), "{text}");
    assert_eq!(error["code"], "content_filtered", "{error}");
    assert_eq!(messages.len(), 1, "nothing of a filtered turn is stored");
    (text, error)
}

#[tokio::test]
async fn a_content_filter_on_a_stream_is_an_error_event_and_nothing_is_stored() {
    let s = Stack::start(vec![]).await;
    filtered_turn(&s).await;
}

#[tokio::test]
async fn the_content_filter_error_event_does_not_repeat_the_filtered_text() {
    let s = Stack::start(vec![]).await;
    let (text, error) = filtered_turn(&s).await;
    let message = error["message"].as_str().unwrap();
    for word in text.split_whitespace() {
        assert!(
            !message.contains(word),
            "the filtered text is echoed: {message}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guardrail_block_on_a_bedrock_stream_is_an_error_event() {
    let mock = MockBedrock::start().await;
    let s = Stack::start(bedrock::env(&mock)).await;
    let user_text = format!("tell me something {}", bedrock::TRIGGER);
    let (text, error, messages) = failed_turn(&s, &user_text, "guarded").await;
    // Bedrock streams the guardrail's message in place of the reply.
    assert_eq!(text, bedrock::BLOCKED);
    assert_eq!(error["code"], "guardrail_blocked", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(bedrock::BLOCKED), "{message}");
    assert!(!message.contains(&user_text), "{message}");
    assert_eq!(messages.len(), 1, "nothing of a blocked turn is stored");
    assert!(
        mock.requests()
            .iter()
            .any(|r| r.operation == "converse-stream"),
        "the turn went to Bedrock"
    );
}
