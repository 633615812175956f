//! A client that goes away before the first token: the upstream has answered with its
//! headers and then says nothing (the mock holds the stream open), the client drops the
//! connection, and the server cancels the model call, stores the user's message once and
//! audits the turn as cancelled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use support::Stack;
use support::mock_openai::reply::STALL_LIMIT;
use support::mock_openai::{Answer, MockOpenAi, Stream, characters, last_user_text};

/// What makes the mock stall before its first chunk.
const HOLD: &str = "hold your tongue";

/// The default answers, except that a streamed reply to [`HOLD`] sends its headers and
/// then nothing until the mock's stall limit.
fn stall_before_the_first_token() -> Answer {
    let otherwise = characters();
    Arc::new(move |body| {
        if body["stream"] == true && last_user_text(body).contains(HOLD) {
            let mut stream = Stream::of("never said");
            stream.first = STALL_LIMIT;
            return stream.reply(body);
        }
        otherwise(body)
    })
}

#[tokio::test]
async fn a_cancel_before_the_first_delta_stores_the_message_once_and_audits_it() {
    let setup = MockOpenAi::setup().answers(vec![stall_before_the_first_token()]);
    let s = Stack::start_with(setup, vec![]).await;
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let content = format!("{HOLD}, please");
    let response = s
        .server
        .send_streamed(&token, &id, &content, "gone-early")
        .await;
    assert_eq!(response.status(), 200, "the stream started");
    // The upstream has answered (the server only answers once it has): go away.
    drop(response);

    let audit = s.server.wait_for_audit("gone-early").await;
    assert!(audit.contains("\"cancelled\""), "{audit}");
    let messages = s.server.read(&token, &id).await["messages"]
        .as_array()
        .unwrap()
        .clone();
    let sent: Vec<_> = messages
        .iter()
        .filter(|m| m["content"] == content.as_str())
        .collect();
    assert_eq!(sent.len(), 1, "{messages:#?}");
    assert_eq!(sent[0]["role"], "user");
    assert_eq!(
        messages.len(),
        2,
        "greeting and message, no reply: {messages:#?}"
    );
}
