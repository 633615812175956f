//! The server on the other providers it ships with, end to end: a conversation created and
//! one turn streamed with the local model (the real GGUF file that scripts/setup.sh fetched,
//! one thread) and with Amazon Bedrock (the testkit's mock, reached through the AWS SDK's
//! own environment: endpoint, test credentials, region).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use link_testkit::bedrock::Mock as MockBedrock;
use support::{Stack, bedrock, parse_sse};

/// Creates a Holmes conversation for alice and streams `content` into it; checks that the
/// stream is deltas then `done` and that the reply is stored as streamed; the reply.
async fn create_and_stream(s: &Stack, content: &str) -> String {
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let response = s.server.send_streamed(&token, &id, content, "turn").await;
    assert_eq!(response.status(), 200);
    let events = parse_sse(&response.text().await.unwrap());
    let (last, deltas) = events.split_last().unwrap();
    assert_eq!(last.0, "done", "{events:?}");
    assert!(!deltas.is_empty() && deltas.iter().all(|(name, _)| name == "delta"));
    let text: String = deltas
        .iter()
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert!(!text.trim().is_empty(), "an empty reply");
    let messages = s.server.read(&token, &id).await["messages"].clone();
    assert_eq!(messages[1]["content"], content);
    assert_eq!(messages[2]["content"], text.as_str());
    assert_eq!(messages[2]["id"], last.1["message_id"]);
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_model_creates_a_conversation_and_streams_a_turn() {
    let model = link::local::default_model_path();
    assert!(
        model.exists(),
        "FAIL: no local model at {} (scripts/setup.sh fetches it)",
        model.display()
    );
    let s = Stack::start(vec![
        ("LINK_PERSONA_PROVIDER", "local".into()),
        ("LINK_CHAT_PROVIDER", "local".into()),
        ("LINK_MODEL_PATH", model.display().to_string()),
        ("LINK_LOCAL_THREADS", "1".into()),
    ])
    .await;
    create_and_stream(&s, "Hello.").await;
    // A message longer than the model's 2048-token window can take is a clear 422 before any
    // model call, naming the characters that fit (the window less the reply's 512 tokens, at
    // most four characters a token), not the model's own 400 about prompt tokens.
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/conversations/{id}/messages", s.server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"content": "Elementary, my dear Watson. ".repeat(250)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "message_too_long", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("6144 characters"), "{message}");
    assert_eq!(s.mock.calls(), 0, "the local run called OpenAI");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedrock_creates_a_conversation_and_streams_a_turn() {
    let mock = MockBedrock::start().await;
    let s = Stack::start(bedrock::env(&mock)).await;
    let reply = create_and_stream(&s, "Hello there").await;
    // The mock's model says back what it was told.
    assert!(reply.contains("Hello there"), "{reply}");
    let operations: Vec<&str> = mock.requests().iter().map(|r| r.operation).collect();
    assert!(operations.contains(&"converse"), "{operations:?}");
    assert!(operations.contains(&"converse-stream"), "{operations:?}");
    let stream = mock.last("converse-stream");
    assert_eq!(
        stream.body["guardrailConfig"]["guardrailIdentifier"],
        bedrock::GUARDRAIL
    );
    // The moderator (ApplyGuardrail, the default with a guardrail) checked the extracted
    // persona once; the turn was left to Converse's own guardrail, not checked twice.
    let applied: Vec<String> = (mock.requests().iter())
        .filter(|r| r.operation == "apply-guardrail")
        .map(|r| r.body["source"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(applied, vec!["OUTPUT".to_owned()]);
    assert_eq!(s.mock.calls(), 0, "the Bedrock run called OpenAI");
}
