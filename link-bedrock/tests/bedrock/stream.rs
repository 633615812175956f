//! ConverseStream: real event-stream frames, guardrails, mid-stream exceptions, the engine.

use std::sync::Arc;

use futures::StreamExt;
use link_bedrock::{BedrockPersonaExtractor, StreamMode};
use link_core::testing::text_of;
use link_core::{
    ChatEvent, ChatModel, Error, Link, PersonaSource, Principal, RequestContext, Result,
    StopReason, TurnEvent, Usage,
};

use crate::mock::{BLOCKED, CUT_MID_FRAME, Mock, SPLIT_FRAMES, STREAM_THROTTLE, TRIGGER};
use crate::{guarded, guardrail, model, request};

async fn collect(model: &dyn ChatModel, text: &str) -> Vec<Result<ChatEvent>> {
    model.stream(request(text)).await.unwrap().collect().await
}

#[tokio::test]
async fn deltas_then_done_with_usage() {
    let mock = Mock::start().await;
    let events = collect(&model(&mock), "Where is Watson?").await;
    assert!(events.len() > 3, "expected several deltas: {events:?}");
    assert_eq!(text_of(&events), "You said: Where is Watson?");
    assert_eq!(
        events.last().unwrap().as_ref().unwrap(),
        &ChatEvent::Done {
            stop_reason: StopReason::EndTurn,
            usage: Some(Usage::new(3, 5))
        }
    );
    let sent = mock.last("converse-stream");
    assert_eq!(
        sent.raw_path,
        "/model/amazon.nova-micro-v1%3A0/converse-stream"
    );
    assert!(sent.body.get("guardrailConfig").is_none());
}

#[tokio::test]
async fn the_stream_guardrail_carries_its_processing_mode() {
    let mock = Mock::start().await;
    collect(&guarded(&mock), "Hi").await;
    let body = mock.last("converse-stream").body;
    assert_eq!(body["guardrailConfig"]["streamProcessingMode"], "sync");
    assert_eq!(
        body["system"][0]["guardContent"]["text"]["text"],
        request("").system
    );
    assert_eq!(
        body["messages"][2]["content"][0]["guardContent"]["text"]["text"],
        "Hi"
    );

    let model = model(&mock)
        .with_guardrail(guardrail().with_stream_mode(StreamMode::Async))
        .unwrap();
    collect(&model, "Hi").await;
    assert_eq!(
        mock.last("converse-stream").body["guardrailConfig"]["streamProcessingMode"],
        "async"
    );
}

#[tokio::test]
async fn a_guardrail_intervention_is_an_event() {
    let mock = Mock::start().await;
    let events = collect(&guarded(&mock), &format!("Something {TRIGGER}")).await;
    let events: Vec<ChatEvent> = events.into_iter().map(Result::unwrap).collect();
    assert!(
        events.contains(&ChatEvent::GuardrailIntervened {
            message: Some(BLOCKED.into())
        }),
        "{events:?}"
    );
    let Some(ChatEvent::Done { stop_reason, usage }) = events.last() else {
        panic!("no done event: {events:?}")
    };
    assert_eq!(*stop_reason, StopReason::GuardrailIntervened);
    assert!(usage.is_some());
}

#[tokio::test]
async fn a_mid_stream_exception_is_an_error_item_after_the_deltas() {
    let mock = Mock::start().await;
    let model = model(&mock).with_model(STREAM_THROTTLE).unwrap();
    let events = collect(&model, "Go on").await;
    let (last, before) = events.split_last().unwrap();
    assert_eq!(text_of(before), "You said: Go on");
    assert!(before.iter().all(Result::is_ok));
    match last {
        Err(Error::Provider {
            provider,
            retryable,
            message,
            body,
            ..
        }) => {
            assert_eq!(provider, "bedrock");
            assert!(*retryable, "a throttling exception is retryable: {message}");
            assert!(message.contains("Slow down"), "{message}");
            assert!(body.as_deref().unwrap_or_default().contains("Slow down"));
        }
        other => panic!("expected a provider error, got {other:?}"),
    }
    assert_eq!(
        mock.calls(STREAM_THROTTLE),
        1,
        "a broken stream is not retried"
    );
}

#[tokio::test]
async fn the_engine_turns_an_intervention_into_guardrail_blocked() {
    let mock = Mock::start().await;
    let link = Link::builder()
        .extractor(Arc::new(BedrockPersonaExtractor::new(mock.client.clone())))
        .chat_model(Arc::new(guarded(&mock)))
        .build()
        .unwrap();
    let ctx = RequestContext::new(Principal::new("user-1"));
    let conv = link
        .create_conversation(&ctx, PersonaSource::Request("Ada Lovelace".into()))
        .await
        .unwrap();
    let id = conv.conversation.id;

    let mut ok = link.send_stream(&ctx, id, "Hello Ada").await.unwrap();
    let mut text = String::new();
    while let Some(event) = ok.next().await {
        if let TurnEvent::Delta { text: delta } = event.unwrap() {
            text.push_str(&delta);
        }
    }
    assert_eq!(text, "You said: Hello Ada");

    let mut blocked = link
        .send_stream(&ctx, id, &format!("Say something {TRIGGER}"))
        .await
        .unwrap();
    let mut outcome = None;
    while let Some(event) = blocked.next().await {
        if let Err(error) = event {
            outcome = Some(error);
        }
    }
    assert_eq!(
        outcome,
        Some(Error::GuardrailBlocked {
            message: BLOCKED.into()
        })
    );
}

#[tokio::test]
async fn frames_split_across_reads_decode_whole() {
    let mock = Mock::start().await;
    let model = model(&mock).with_model(SPLIT_FRAMES).unwrap();
    let events = collect(&model, "Piece by piece").await;
    assert_eq!(text_of(&events), "You said: Piece by piece");
    assert!(
        matches!(
            events.last(),
            Some(Ok(ChatEvent::Done {
                stop_reason: StopReason::EndTurn,
                usage: Some(_)
            }))
        ),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_stream_cut_mid_frame_ends_with_an_error_after_the_deltas() {
    let mock = Mock::start().await;
    let model = model(&mock).with_model(CUT_MID_FRAME).unwrap();
    let events = collect(&model, "Go on").await;
    let (last, before) = events.split_last().unwrap();
    assert_eq!(text_of(before), "You said: Go on");
    assert!(before.iter().all(Result::is_ok), "{events:?}");
    assert!(
        !before
            .iter()
            .any(|e| matches!(e, Ok(ChatEvent::Done { .. }))),
        "{events:?}"
    );
    assert!(
        matches!(last, Err(Error::Provider { provider, .. }) if provider == "bedrock"),
        "{last:?}"
    );
    assert_eq!(
        mock.calls(CUT_MID_FRAME),
        1,
        "a broken stream is not retried"
    );
}
