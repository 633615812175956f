//! OpenAiChatModel, whole and streamed, against a fake OpenAI on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use futures::StreamExt;
use link_core::testing::text_of;
use link_core::{
    ChatEvent, ChatMessage, ChatModel, ChatRequest, Error, GenerationParams, StopReason, Usage,
};
use link_openai::{MaxTokensParam, OpenAiChatModel, OpenAiConfig};
use serde_json::json;

fn request() -> ChatRequest {
    ChatRequest {
        system: "You are Sherlock Holmes.".into(),
        messages: vec![
            ChatMessage::user("Good evening."),
            ChatMessage::assistant("Ah, a visitor."),
            ChatMessage::user("What are you working on?"),
        ],
        params: GenerationParams {
            max_tokens: Some(64),
            temperature: Some(0.5),
            top_p: Some(0.9),
            top_k: Some(40),
            stop: vec!["\nUser:".into()],
        },
    }
}

async fn collect(model: &OpenAiChatModel) -> Vec<link_core::Result<ChatEvent>> {
    model.stream(request()).await.unwrap().collect().await
}

#[tokio::test]
async fn complete_sends_the_conversation_and_reads_the_reply() {
    let fake = FakeOpenAi::start(vec![chat("The game is afoot.")]).await;
    let model = OpenAiChatModel::new(fake.config());
    let reply = model.complete(request()).await.unwrap();
    assert_eq!(reply.text, "The game is afoot.");
    assert_eq!(reply.stop_reason, StopReason::EndTurn);
    assert_eq!(
        reply.usage,
        Some(Usage {
            input_tokens: 50,
            output_tokens: 20,
            total_tokens: 70
        })
    );

    let body = &fake.bodies().await[0];
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "You are Sherlock Holmes."},
            {"role": "user", "content": "Good evening."},
            {"role": "assistant", "content": "Ah, a visitor."},
            {"role": "user", "content": "What are you working on?"}
        ])
    );
    assert_eq!(body["max_tokens"], 64);
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["stop"], json!(["\nUser:"]));
    assert!(body.get("top_k").is_none(), "OpenAI has no top_k");
    assert!(body.get("response_format").is_none());
}

#[tokio::test]
async fn max_completion_tokens_can_replace_max_tokens() {
    let fake = FakeOpenAi::start(vec![chat("Indeed.")]).await;
    let config = fake
        .builder()
        .max_tokens_param(MaxTokensParam::MaxCompletionTokens)
        .build()
        .unwrap();
    OpenAiChatModel::new(config)
        .complete(request())
        .await
        .unwrap();
    let body = &fake.bodies().await[0];
    assert_eq!(body["max_completion_tokens"], 64);
    assert!(body.get("max_tokens").is_none());
}

#[tokio::test]
async fn finish_reasons_map_and_unknown_ones_do_not_fail() {
    for (reason, expected) in [
        ("length", StopReason::MaxTokens),
        ("content_filter", StopReason::ContentFiltered),
        ("eos_token", StopReason::Other("eos_token".into())),
    ] {
        let answer = completion(
            json!({"role": "assistant", "content": "Hm.", "annotations": []}),
            reason,
        );
        let fake = FakeOpenAi::start(vec![fixed(answer)]).await;
        let reply = OpenAiChatModel::new(fake.config())
            .complete(request())
            .await
            .unwrap();
        assert_eq!(reply.stop_reason, expected, "{reason}");
    }
}

#[tokio::test]
async fn missing_usage_is_none_not_zero() {
    let answer = Reply::new(200).set_body_json(json!({
        "choices": [{"message": {"role": "assistant", "content": "Elementary."}, "finish_reason": "stop"}]
    }));
    let fake = FakeOpenAi::start(vec![fixed(answer)]).await;
    let reply = OpenAiChatModel::new(fake.config())
        .complete(request())
        .await
        .unwrap();
    assert_eq!(reply.usage, None);
}

#[tokio::test]
async fn a_stream_yields_deltas_then_one_done_with_usage() {
    let fake = FakeOpenAi::start(vec![chat("Data, data, data!")]).await;
    let model = OpenAiChatModel::new(fake.config());
    let events = collect(&model).await;
    assert_eq!(text_of(&events), "Data, data, data!");
    let deltas = events
        .iter()
        .filter(|e| matches!(e, Ok(ChatEvent::Delta { .. })))
        .count();
    assert_eq!(
        deltas, 3,
        "one delta per word, none for the empty role chunk"
    );
    assert_eq!(
        events.last().unwrap().as_ref().unwrap(),
        &ChatEvent::Done {
            stop_reason: StopReason::EndTurn,
            usage: Some(Usage::new(12, 5))
        }
    );
    let request = &fake.requests().await[0];
    assert_eq!(request.headers.get("accept").unwrap(), "text/event-stream");
    let body = &fake.bodies().await[0];
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn a_stream_without_usage_reports_none() {
    let fake = FakeOpenAi::start(vec![chat("No numbers.")]).await;
    let config = fake.builder().stream_usage(false).build().unwrap();
    let events = collect(&OpenAiChatModel::new(config)).await;
    assert!(
        matches!(events.last(), Some(Ok(ChatEvent::Done { usage: None, .. }))),
        "{events:?}"
    );
    assert!(fake.bodies().await[0].get("stream_options").is_none());
}

#[tokio::test]
async fn a_stream_cut_off_before_done_ends_with_an_error() {
    let chunks = [
        chunk(json!({"role": "assistant", "content": "The game"}), None),
        chunk(json!({"content": " is"}), None),
    ];
    let fake = FakeOpenAi::start(vec![fixed(sse(&chunks, false))]).await;
    let events = collect(&OpenAiChatModel::new(fake.config())).await;
    assert_eq!(text_of(&events), "The game is");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Ok(ChatEvent::Done { .. }))),
        "no done event"
    );
    assert!(
        matches!(events.last(), Some(Err(Error::Provider { message, .. })) if message.contains("[DONE]")),
        "{events:?}"
    );
    assert_eq!(
        fake.requests().await.len(),
        1,
        "a started stream is never retried"
    );
}

#[tokio::test]
async fn an_error_object_mid_stream_is_a_mid_stream_error() {
    let events = [
        chunk(json!({"role": "assistant", "content": "Watson"}), None),
        json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}}),
        chunk(json!({"content": " never seen"}), None),
    ];
    let fake = FakeOpenAi::start(vec![fixed(sse(&events, true))]).await;
    let events = collect(&OpenAiChatModel::new(fake.config())).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(text_of(&events), "Watson");
    assert!(
        matches!(&events[1], Err(Error::Provider { message, status: None, .. }) if message.contains("server had an error")),
        "{events:?}"
    );
    assert_eq!(fake.requests().await.len(), 1);
}

#[tokio::test]
async fn junk_in_a_stream_is_malformed_output() {
    let body =
        "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: {oops\n\ndata: [DONE]\n\n";
    let template = Reply::new(200).set_body_raw(body, "text/event-stream");
    let fake = FakeOpenAi::start(vec![fixed(template)]).await;
    let events = collect(&OpenAiChatModel::new(fake.config())).await;
    assert!(
        matches!(events.last(), Some(Err(Error::MalformedOutput { .. }))),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_stream_is_retried_before_its_first_event() {
    let busy = error(
        503,
        "server_error",
        "",
        "The engine is currently overloaded.",
    )
    .insert_header("retry-after", "0.01");
    let fake = FakeOpenAi::start(vec![fixed(busy), chat("Finally.")]).await;
    let events = collect(&OpenAiChatModel::new(fake.config())).await;
    assert_eq!(text_of(&events), "Finally.");
    assert_eq!(fake.requests().await.len(), 2);
}

#[tokio::test]
async fn a_stream_that_cannot_start_fails_before_the_first_event() {
    let fake = FakeOpenAi::start(vec![chat("unused")]).await;
    let config = fake
        .builder()
        .api_key("sk-not-the-right-one")
        .build()
        .unwrap();
    let result = OpenAiChatModel::new(config).stream(request()).await;
    assert!(
        matches!(
            result,
            Err(Error::Provider {
                status: Some(401),
                ..
            })
        ),
        "{:?}",
        result.err()
    );
}

#[tokio::test]
async fn a_refused_connection_is_retryable_and_bounded() {
    // Bind then drop a listener: the port is closed, so every attempt is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = OpenAiConfig::builder()
        .base_url(format!("http://127.0.0.1:{port}/v1"))
        .retry_policy(fast_retries(1))
        .build()
        .unwrap();
    let result = OpenAiChatModel::new(config).complete(request()).await;
    assert!(
        matches!(
            result,
            Err(Error::Provider {
                status: None,
                retryable: true,
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let slow = completion(json!({"role": "assistant", "content": "late"}), "stop")
        .set_delay(std::time::Duration::from_secs(5));
    let fake = FakeOpenAi::start(vec![fixed(slow)]).await;
    let config = fake
        .builder()
        .timeout(std::time::Duration::from_millis(50))
        .retry_policy(fast_retries(0))
        .build()
        .unwrap();
    let result = OpenAiChatModel::new(config).complete(request()).await;
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
}

#[tokio::test]
async fn the_chat_model_conformance_suite_passes() {
    let fake = FakeOpenAi::start(vec![chat("Elementary, my dear Watson.")]).await;
    let model = OpenAiChatModel::new(fake.config());
    link_core::testing::conformance::chat_model(&model).await;
    assert_eq!(model.model_id(), MODEL);
}

/// A hand-written HTTP/1.1 server that sends the head and `first` as one chunk, then either
/// stalls or drops the connection: what a dying upstream looks like on the wire.
async fn raw_server(first: &'static str, then_drop: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let _ = socket.read(&mut buf).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        let chunk = format!("{:x}\r\n{first}\r\n", first.len());
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(chunk.as_bytes()).await.unwrap();
        if then_drop {
            drop(socket);
        } else {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        }
    });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn a_silent_stream_hits_the_idle_timeout() {
    let base = raw_server(
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hm\"}}]}\n\n",
        false,
    )
    .await;
    let config = OpenAiConfig::builder()
        .base_url(base)
        .stream_idle_timeout(std::time::Duration::from_millis(100))
        .build()
        .unwrap();
    let events = collect(&OpenAiChatModel::new(config)).await;
    assert_eq!(text_of(&events), "Hm");
    assert!(
        matches!(events.last(), Some(Err(Error::Timeout { .. }))),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_dropped_connection_mid_stream_is_an_error() {
    let base = raw_server(
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hm\"}}]}\n\n",
        true,
    )
    .await;
    let config = OpenAiConfig::builder().base_url(base).build().unwrap();
    let events = collect(&OpenAiChatModel::new(config)).await;
    assert_eq!(text_of(&events), "Hm");
    assert!(
        matches!(events.last(), Some(Err(Error::Provider { .. }))),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Ok(ChatEvent::Done { .. })))
    );
}

#[tokio::test]
async fn debug_output_never_shows_the_key() {
    let fake = FakeOpenAi::start(vec![chat("unused")]).await;
    let model = OpenAiChatModel::new(fake.config());
    let extractor = link_openai::OpenAiPersonaExtractor::new(fake.config()).unwrap();
    let shown = format!(
        "{model:?} {extractor:?} {:?} {:?}",
        fake.config(),
        fake.builder()
    );
    assert!(!shown.contains(KEY), "{shown}");
    assert!(
        shown.contains(fake.uri()),
        "the Debug output is still useful"
    );
}
