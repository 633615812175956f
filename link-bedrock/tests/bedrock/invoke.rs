//! InvokeModel with the Nova body and the guardrail headers.

use futures::StreamExt;
use link_bedrock::{Api, GuardrailTrace};
use link_core::{ChatEvent, ChatModel, StopReason, Usage};
use serde_json::json;

use crate::mock::{BLOCKED, Mock, TRIGGER};
use crate::{guardrail, model, request};

#[tokio::test]
async fn invoke_model_sends_the_nova_body() {
    let mock = Mock::start().await;
    let model = model(&mock).with_api(Api::InvokeModel);
    let reply = model.complete(request("Who did it?")).await.unwrap();
    assert_eq!(reply.text, "You said: Who did it?");
    assert_eq!(reply.stop_reason, StopReason::EndTurn);
    assert_eq!(reply.usage, Some(Usage::new(3, 5)));

    let sent = mock.last("invoke");
    assert_eq!(sent.raw_path, "/model/amazon.nova-micro-v1%3A0/invoke");
    assert_eq!(sent.headers["content-type"], "application/json");
    assert!(
        sent.headers
            .get("x-amzn-bedrock-guardrailidentifier")
            .is_none()
    );
    let body = sent.body;
    assert_eq!(body["schemaVersion"], "messages-v1");
    assert_eq!(body["system"], json!([{ "text": request("").system }]));
    assert_eq!(
        body["messages"][2],
        json!({ "role": "user", "content": [{ "text": "Who did it?" }] })
    );
    assert_eq!(body["inferenceConfig"]["maxTokens"], 64);
    assert_eq!(body["inferenceConfig"]["topK"], 40);
    assert_eq!(body["inferenceConfig"]["stopSequences"], json!(["Watson:"]));
}

#[tokio::test]
async fn invoke_model_sends_the_guardrail_headers_and_reports_interventions() {
    let mock = Mock::start().await;
    let model = model(&mock)
        .with_api(Api::InvokeModel)
        .with_guardrail(guardrail().with_trace(GuardrailTrace::EnabledFull))
        .unwrap();
    let reply = model.complete(request("Fine words")).await.unwrap();
    assert_eq!(reply.stop_reason, StopReason::EndTurn);
    let headers = mock.last("invoke").headers;
    assert_eq!(headers["x-amzn-bedrock-guardrailidentifier"], "gr-test");
    assert_eq!(headers["x-amzn-bedrock-guardrailversion"], "1");
    assert_eq!(headers["x-amzn-bedrock-trace"], "ENABLED_FULL");

    let reply = model
        .complete(request(&format!("Something {TRIGGER}")))
        .await
        .unwrap();
    assert_eq!(reply.stop_reason, StopReason::GuardrailIntervened);
    assert_eq!(reply.text, BLOCKED);
}

#[tokio::test]
async fn invoke_model_streams_the_whole_reply_and_never_shows_a_blocked_one_as_text() {
    let mock = Mock::start().await;
    let model = model(&mock)
        .with_api(Api::InvokeModel)
        .with_guardrail(guardrail())
        .unwrap();
    let events: Vec<ChatEvent> = model
        .stream(request("Hi"))
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(
        events[0],
        ChatEvent::Delta {
            text: "You said: Hi".into()
        }
    );
    assert!(matches!(
        events[1],
        ChatEvent::Done {
            stop_reason: StopReason::EndTurn,
            ..
        }
    ));

    let events: Vec<ChatEvent> = model
        .stream(request(TRIGGER))
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(
        events[0],
        ChatEvent::GuardrailIntervened {
            message: Some(BLOCKED.into())
        }
    );
    assert!(!events.iter().any(|e| matches!(e, ChatEvent::Delta { .. })));
    assert!(matches!(
        events[1],
        ChatEvent::Done {
            stop_reason: StopReason::GuardrailIntervened,
            ..
        }
    ));
}
