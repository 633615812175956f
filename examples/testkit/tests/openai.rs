//! Each knob of the strict OpenAI mock, seen through link-openai's clients: the client under
//! test must see the failure the real API would give it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use link_core::testing::text_of;
use link_core::{
    ChatEvent, ChatMessage, ChatModel, ChatRequest, Error, PersonaExtractor, StopReason,
};
use link_openai::{OpenAiChatModel, OpenAiPersonaExtractor};
use link_testkit::openai::{
    Answer, Fault, KEY, MockOpenAi, REPLY, characters, chat, fast_retries, mask_key,
    response_format_violations,
};

fn request(text: &str) -> ChatRequest {
    ChatRequest {
        system: "You are Sherlock Holmes.".into(),
        messages: vec![ChatMessage::user(text)],
        params: Default::default(),
    }
}

async fn events(model: &OpenAiChatModel, text: &str) -> Vec<link_core::Result<ChatEvent>> {
    model.stream(request(text)).await.unwrap().collect().await
}

fn has_done(events: &[link_core::Result<ChatEvent>]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, Ok(ChatEvent::Done { .. })))
}

async fn mock_of(answers: Vec<Answer>) -> (MockOpenAi, OpenAiChatModel) {
    let mock = MockOpenAi::start(answers).await;
    let model = OpenAiChatModel::new(mock.config());
    (mock, model)
}

#[test]
fn every_fault_has_its_own_trigger_phrase() {
    for fault in Fault::ALL {
        assert_eq!(
            Fault::triggered_by(&format!("please {} now", fault.trigger())),
            Some(fault)
        );
    }
    assert_eq!(Fault::triggered_by("What are you working on?"), None);
}

#[tokio::test]
async fn the_default_streams_with_usage_only_when_asked() {
    let (mock, model) = mock_of(vec![characters()]).await;
    let with = events(&model, "Hello").await;
    assert_eq!(text_of(&with), REPLY);
    assert!(
        matches!(
            with.last(),
            Some(Ok(ChatEvent::Done {
                stop_reason: StopReason::EndTurn,
                usage: Some(_)
            }))
        ),
        "{with:?}"
    );
    let without = OpenAiChatModel::new(mock.builder().stream_usage(false).build().unwrap());
    let without = events(&without, "Hello").await;
    assert_eq!(text_of(&without), REPLY);
    assert!(
        matches!(
            without.last(),
            Some(Ok(ChatEvent::Done { usage: None, .. }))
        ),
        "include_usage off, yet usage came: {without:?}"
    );
}

#[tokio::test]
async fn the_default_extracts_a_persona_named_after_the_request() {
    let mock = MockOpenAi::start(vec![characters()]).await;
    let extractor = OpenAiPersonaExtractor::new(mock.config()).unwrap();
    let persona = extractor.extract("Sherlock Holmes").await.unwrap();
    assert_eq!(persona.name, "Sherlock Holmes");
    let body = &mock.bodies().await[0];
    assert!(response_format_violations(&body["response_format"]).is_empty());
}

#[tokio::test]
async fn a_mid_stream_error_ends_the_stream_with_an_error_after_the_text() {
    let (mock, model) = mock_of(vec![Fault::MidStreamError.answer()]).await;
    let events = events(&model, "Hello").await;
    assert!(!text_of(&events).is_empty() && text_of(&events).len() < REPLY.len());
    assert!(
        matches!(events.last(), Some(Err(Error::Provider { message, status: None, .. })) if message.contains("server had an error")),
        "{events:?}"
    );
    assert!(!has_done(&events));
    assert_eq!(mock.calls(), 1, "a started stream is not retried");
}

#[tokio::test]
async fn a_stream_without_done_is_an_error() {
    let (_mock, model) = mock_of(vec![Fault::MissingDone.answer()]).await;
    let events = events(&model, "Hello").await;
    assert_eq!(text_of(&events), REPLY);
    assert!(
        matches!(events.last(), Some(Err(Error::Provider { message, .. })) if message.contains("[DONE]")),
        "{events:?}"
    );
    assert!(!has_done(&events));
}

#[tokio::test]
async fn a_stalled_stream_hits_the_idle_timeout() {
    let mock = MockOpenAi::start(vec![Fault::Stall.answer()]).await;
    let config = mock
        .builder()
        .stream_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let events = events(&OpenAiChatModel::new(config), "Hello").await;
    assert!(!text_of(&events).is_empty());
    assert!(
        matches!(events.last(), Some(Err(Error::Timeout { .. }))),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_stalled_whole_request_hits_the_timeout() {
    let mock = MockOpenAi::start(vec![Fault::Stall.answer()]).await;
    let config = mock
        .builder()
        .timeout(Duration::from_millis(200))
        .retry_policy(fast_retries(0))
        .build()
        .unwrap();
    let result = OpenAiChatModel::new(config)
        .complete(request("Hello"))
        .await;
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
}

#[tokio::test]
async fn the_content_filter_stops_a_stream_and_a_whole_reply() {
    let (_mock, model) = mock_of(vec![characters()]).await;
    let trigger = Fault::ContentFilter.trigger();
    let streamed = events(&model, trigger).await;
    assert!(
        matches!(
            streamed.last(),
            Some(Ok(ChatEvent::Done {
                stop_reason: StopReason::ContentFiltered,
                ..
            }))
        ),
        "{streamed:?}"
    );
    let whole = model.complete(request(trigger)).await.unwrap();
    assert_eq!(whole.stop_reason, StopReason::ContentFiltered);
}

#[tokio::test]
async fn a_429_is_retried_after_the_wait_it_asks_for() {
    let limited = Fault::RateLimited { retry_after_ms: 60 }.answer();
    let (mock, model) = mock_of(vec![limited, chat("At last.")]).await;
    let started = Instant::now();
    let reply = model.complete(request("Hello")).await.unwrap();
    assert_eq!(reply.text, "At last.");
    assert!(
        started.elapsed() >= Duration::from_millis(60),
        "retry-after-ms not honoured"
    );
    assert_eq!(mock.calls(), 2);
}

#[tokio::test]
async fn a_lasting_429_fails_retryable_with_its_wait() {
    let (mock, model) = mock_of(vec![Fault::RateLimited { retry_after_ms: 5 }.answer()]).await;
    let result = model.stream(request("Hello")).await;
    let Err(Error::Provider {
        status,
        retryable,
        retry_after,
        message,
        ..
    }) = result
    else {
        panic!("expected a provider error, got {:?}", result.err());
    };
    assert_eq!((status, retryable), (Some(429), true));
    assert_eq!(retry_after, Some(Duration::from_millis(5)));
    assert!(message.contains("Rate limit reached"), "{message}");
    assert_eq!(mock.calls(), 3, "1 attempt + 2 retries");
}

#[tokio::test]
async fn insufficient_quota_is_final() {
    let (mock, model) = mock_of(vec![characters()]).await;
    let result = model.complete(request("use up the quota")).await;
    assert!(
        matches!(
            result,
            Err(Error::Provider {
                status: Some(429),
                retryable: false,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(mock.calls(), 1);
}

#[tokio::test]
async fn an_overload_is_retried_then_reported_with_its_status() {
    let (mock, model) = mock_of(vec![characters()]).await;
    let result = model.complete(request("you are overloaded")).await;
    assert!(
        matches!(
            result,
            Err(Error::Provider {
                status: Some(503),
                retryable: true,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(mock.calls(), 3);
}

#[tokio::test]
async fn a_wrong_key_gets_the_masked_key_401_and_the_client_shows_neither() {
    let mock = MockOpenAi::start(vec![characters()]).await;
    let wrong = "sk-proj-wrongwrongwrong9876";
    let model = OpenAiChatModel::new(mock.builder().api_key(wrong).build().unwrap());
    let err = model.complete(request("Hello")).await.unwrap_err();
    let Error::Provider {
        status,
        retryable,
        message,
        body,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*status, *retryable), (Some(401), false));
    assert!(
        message.starts_with("Incorrect API key provided"),
        "{message}"
    );
    let masked = mask_key(wrong);
    assert_eq!(masked, format!("sk-proj-{}9876", "*".repeat(15)));
    let sent = mock.requests().await;
    assert_eq!(sent.len(), 1);
    let shown = format!("{err} {err:?} {body:?}");
    assert!(
        !shown.contains(wrong) && !shown.contains(&masked),
        "{shown}"
    );
}

#[tokio::test]
async fn strict_checks_refuse_what_openai_refuses() {
    let mock = MockOpenAi::start(vec![characters()]).await;
    // An unknown model: 404 model_not_found.
    let unknown = OpenAiChatModel::new(mock.config().with_model("gpt-nonexistent"));
    let result = unknown.complete(request("Hello")).await;
    assert!(
        matches!(
            result,
            Err(Error::Provider {
                status: Some(404),
                ..
            })
        ),
        "{result:?}"
    );
    // A temperature out of range: 400.
    let mut hot = request("Hello");
    hot.params.temperature = Some(3.5);
    let result = OpenAiChatModel::new(mock.config()).complete(hot).await;
    assert!(
        matches!(&result, Err(Error::Provider { status: Some(400), message, .. }) if message.contains("temperature")),
        "{result:?}"
    );
    // No key at all: 401 without a key to mask.
    let keyless = link_openai::OpenAiConfig::builder()
        .base_url(&mock.base_url)
        .retry_policy(fast_retries(0))
        .build()
        .unwrap();
    let result = OpenAiChatModel::new(keyless)
        .complete(request("Hello"))
        .await;
    assert!(
        matches!(&result, Err(Error::Provider { status: Some(401), message, .. }) if message.contains("didn't provide an API key")),
        "{result:?}"
    );
    // The mock's own key passed the key check in the first request.
    let sent = mock.requests().await;
    assert_eq!(sent[0].headers["authorization"], "Bearer ".to_owned() + KEY);
}
