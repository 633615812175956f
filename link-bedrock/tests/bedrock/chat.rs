//! Converse: whole replies, request shape, guardrails.

use link_core::{ChatModel, StopReason, Usage};
use serde_json::json;

use crate::mock::{BLOCKED, Mock, TRIGGER};
use crate::{guarded, model, request};

#[tokio::test]
async fn converse_sends_the_request_and_maps_the_reply() {
    let mock = Mock::start().await;
    let reply = model(&mock)
        .complete(request("What is the case?"))
        .await
        .unwrap();
    assert_eq!(reply.text, "You said: What is the case?");
    assert_eq!(reply.stop_reason, StopReason::EndTurn);
    assert_eq!(reply.usage, Some(Usage::new(4, 6)));

    let sent = mock.last("converse");
    assert_eq!(sent.raw_path, "/model/amazon.nova-micro-v1%3A0/converse");
    let body = sent.body;
    assert_eq!(body["system"], json!([{ "text": request("").system }]));
    assert_eq!(
        body["messages"][1],
        json!({ "role": "assistant", "content": [{ "text": "Ah, a visitor." }] })
    );
    assert_eq!(
        body["messages"][2]["content"],
        json!([{ "text": "What is the case?" }])
    );
    let inference = &body["inferenceConfig"];
    assert_eq!(inference["maxTokens"], 64);
    assert_eq!(inference["stopSequences"], json!(["Watson:"]));
    assert!((inference["temperature"].as_f64().unwrap() - 0.5).abs() < 1e-6);
    assert_eq!(
        body["additionalModelRequestFields"],
        json!({ "inferenceConfig": { "topK": 40 } })
    );
    assert!(body.get("guardrailConfig").is_none());
}

#[tokio::test]
async fn inference_profile_ids_are_accepted() {
    let mock = Mock::start().await;
    let model = model(&mock)
        .with_model("us.amazon.nova-micro-v1:0")
        .unwrap();
    assert_eq!(model.model_id(), "us.amazon.nova-micro-v1:0");
    model.complete(request("hi")).await.unwrap();
    assert_eq!(
        mock.last("converse").raw_path,
        "/model/us.amazon.nova-micro-v1%3A0/converse"
    );
}

#[tokio::test]
async fn a_guardrail_wraps_the_persona_and_user_turns_as_guard_content() {
    let mock = Mock::start().await;
    let reply = guarded(&mock).complete(request("Any news?")).await.unwrap();
    assert_eq!(reply.stop_reason, StopReason::EndTurn);

    let body = mock.last("converse").body;
    assert_eq!(
        body["guardrailConfig"],
        json!({ "guardrailIdentifier": "gr-test", "guardrailVersion": "1", "trace": "enabled" })
    );
    assert_eq!(
        body["system"][0]["guardContent"]["text"]["text"],
        request("").system
    );
    assert_eq!(
        body["messages"][0]["content"][0]["guardContent"]["text"]["text"],
        "Good evening."
    );
    assert_eq!(
        body["messages"][1]["content"][0],
        json!({ "text": "Ah, a visitor." })
    );
    assert_eq!(
        body["messages"][2]["content"][0]["guardContent"]["text"]["text"],
        "Any news?"
    );
}

#[tokio::test]
async fn a_guardrail_intervention_is_a_stop_reason_not_an_error() {
    let mock = Mock::start().await;
    let reply = guarded(&mock)
        .complete(request(&format!("Tell me something {TRIGGER}.")))
        .await
        .unwrap();
    assert_eq!(reply.stop_reason, StopReason::GuardrailIntervened);
    assert_eq!(reply.text, BLOCKED);
    assert!(reply.usage.is_some());
}

#[tokio::test]
async fn the_persona_itself_is_assessed() {
    let mock = Mock::start().await;
    let mut bad_persona = request("Hello there.");
    bad_persona.system = format!("You play a {TRIGGER} character.");

    let reply = guarded(&mock).complete(bad_persona.clone()).await.unwrap();
    assert_eq!(
        reply.stop_reason,
        StopReason::GuardrailIntervened,
        "the system prompt was not assessed"
    );

    // Without a guardrail nothing is assessed: the mock guardrail reads only guard content.
    let reply = model(&mock).complete(bad_persona).await.unwrap();
    assert_eq!(reply.stop_reason, StopReason::EndTurn);
}
