//! The streamed (server-sent events) and whole Chat Completion readers under arbitrary
//! bodies from a local mock: whatever the bytes and however they are split across reads, a
//! stream yields deltas and then exactly one end, a `Done` or an error, never panics and
//! never hangs; a well-formed stream yields exactly its text. A whole completion's body
//! parses or fails cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use link_core::testing::text_of;
use link_core::{ChatEvent, ChatMessage, ChatModel, ChatRequest, GenerationParams, Result};
use link_openai::OpenAiChatModel;
use link_testkit::openai::{MockOpenAi, Piece, Reply, fast_retries};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

/// Cases per property: each is an HTTP exchange with the mock, about a millisecond.
const CASES: u32 = 256;

/// The bound on one case; a stream that outlives it has hung.
const CASE_LIMIT: Duration = Duration::from_secs(10);

/// What the mock answers next: status, content type and the body's pieces.
type Script = Arc<Mutex<(u16, &'static str, Vec<Piece>)>>;

/// A mock answering every request with whatever the script holds at the time.
async fn scripted_mock() -> (MockOpenAi, Script) {
    let script: Script = Arc::new(Mutex::new((200, "text/event-stream", Vec::new())));
    let current = script.clone();
    let answer = Arc::new(move |_: &Value| {
        let (status, content_type, pieces) = current.lock().unwrap().clone();
        Reply::new(status).set_body_pieces(pieces, content_type)
    });
    (MockOpenAi::start(vec![answer]).await, script)
}

fn model(mock: &MockOpenAi) -> OpenAiChatModel {
    let config = mock
        .builder()
        .retry_policy(fast_retries(0))
        .stream_idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    OpenAiChatModel::new(config)
}

fn request() -> ChatRequest {
    ChatRequest {
        system: "You are Sherlock Holmes.".into(),
        messages: vec![ChatMessage::user("Good evening.")],
        params: GenerationParams::default(),
    }
}

/// `body` cut at `cuts` (positions, taken modulo its length) into separate writes.
fn split(body: &[u8], cuts: &[usize]) -> Vec<Piece> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| c % (body.len() + 1))
        .chain([0, body.len()])
        .collect();
    at.sort_unstable();
    at.dedup();
    at.windows(2)
        .map(|w| Piece::Data(body[w[0]..w[1]].to_vec().into()))
        .collect()
}

/// A chunk's `data:` line, well-formed or not: odd types, huge and negative numbers, an
/// `error` object, text with line breaks and multi-byte characters.
fn chunk_line() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        "\\PC{0,12}",
        ".{0,12}",
        Just("\u{1F600}\u{0301}".to_owned())
    ];
    let number = prop_oneof![
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!(1.5)),
        Just(json!("7")),
        (0u64..100).prop_map(Value::from)
    ];
    let chunk = (
        prop::option::of(text),
        prop::option::of(prop_oneof![
            Just("stop".to_owned()),
            Just("length".to_owned()),
            Just("content_filter".to_owned()),
            ".{0,8}"
        ]),
        prop::option::of((number.clone(), number.clone(), number)),
        any::<bool>(),
    )
        .prop_map(|(content, finish, usage, error)| {
            let mut chunk = json!({"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]});
            if let Some((prompt, completion, total)) = usage {
                chunk["usage"] = json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total});
            }
            if error {
                chunk["error"] = json!({"message": "boom", "type": "server_error"});
            }
            chunk.to_string()
        });
    prop_oneof![
        6 => chunk.prop_map(|c| format!("data: {c}")),
        1 => Just("data: [DONE]".to_owned()),
        1 => Just(": keep-alive".to_owned()),
        1 => Just("event: message".to_owned()),
        1 => Just("retry: x".to_owned()),
        1 => Just("data:".to_owned()),
        1 => Just(String::new()),
        1 => ".{0,24}",
    ]
}

/// An SSE-shaped body: lines of the vocabulary above with any line ending.
fn sse_body() -> impl Strategy<Value = Vec<u8>> {
    let ending = prop_oneof![Just("\n"), Just("\r\n"), Just("\r"), Just("\n\n")];
    prop::collection::vec((chunk_line(), ending), 0..16).prop_map(|lines| {
        lines
            .into_iter()
            .flat_map(|(line, end)| [line, end.to_owned()])
            .collect::<String>()
            .into_bytes()
    })
}

/// A well-formed stream saying `texts`, then `[DONE]`; its body.
fn well_formed(texts: &[String]) -> Vec<u8> {
    let mut body: String = texts
        .iter()
        .map(|t| {
            format!(
                "data: {}\n\n",
                json!({"choices": [{"index": 0, "delta": {"content": t}}]})
            )
        })
        .collect();
    body.push_str(
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    );
    body.push_str("data: [DONE]\n\n");
    body.into_bytes()
}

/// Streams one reply from the mock, bounded by [`CASE_LIMIT`].
async fn stream_once(model: &OpenAiChatModel) -> Option<Vec<Result<ChatEvent>>> {
    let events = async {
        match model.stream(request()).await {
            Ok(stream) => stream.collect::<Vec<_>>().await,
            Err(error) => vec![Err(error)],
        }
    };
    tokio::time::timeout(CASE_LIMIT, events).await.ok()
}

/// Deltas, then exactly one end: a `Done` or an error, and nothing after it.
fn ends_once(events: &[Result<ChatEvent>]) -> std::result::Result<(), TestCaseError> {
    let (last, before) = events
        .split_last()
        .ok_or_else(|| TestCaseError::fail("a stream that ended with no event"))?;
    for event in before {
        prop_assert!(
            matches!(event, Ok(ChatEvent::Delta { .. })),
            "only deltas come before the end: {events:?}"
        );
    }
    prop_assert!(
        matches!(last, Ok(ChatEvent::Done { .. }) | Err(_)),
        "the last event ends the stream: {events:?}"
    );
    Ok(())
}

/// Runs `property` for [`CASES`] cases of `strategy` against one mock, on one runtime.
fn check<S: Strategy>(
    strategy: S,
    property: impl Fn(
        &tokio::runtime::Runtime,
        &OpenAiChatModel,
        &Script,
        S::Value,
    ) -> std::result::Result<(), TestCaseError>,
) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mock, script) = runtime.block_on(scripted_mock());
    let model = model(&mock);
    let mut runner = TestRunner::new(Config::with_cases(CASES));
    let outcome = runner.run(&strategy, |input| {
        property(&runtime, &model, &script, input)
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// Streams one reply whose body is `body` cut into writes at `cuts`.
fn stream_case(
    runtime: &tokio::runtime::Runtime,
    model: &OpenAiChatModel,
    script: &Script,
    body: &[u8],
    cuts: &[usize],
) -> std::result::Result<Vec<Result<ChatEvent>>, TestCaseError> {
    *script.lock().unwrap() = (200, "text/event-stream", split(body, cuts));
    runtime
        .block_on(stream_once(model))
        .ok_or_else(|| TestCaseError::fail("the stream hung"))
}

#[test]
fn sse_shaped_bodies_split_anywhere_end_the_stream_once() {
    let cases = (sse_body(), prop::collection::vec(any::<usize>(), 0..6));
    check(cases, |runtime, model, script, (body, cuts)| {
        ends_once(&stream_case(runtime, model, script, &body, &cuts)?)
    });
}

/// Found by the test above: `eventsource-stream` panicked on a body that starts with a byte
/// order mark. The mark is skipped, as the SSE standard says, also when it is split.
#[test]
fn a_byte_order_mark_at_the_start_is_skipped() {
    let texts = ["Elementary.".to_owned()];
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend(well_formed(&texts));
    check(Just(()), |runtime, model, script, ()| {
        for cuts in [vec![], vec![1], vec![2], vec![1, 2, 3]] {
            let events = stream_case(runtime, model, script, &body, &cuts)?;
            let text: String = (events.iter())
                .filter_map(|e| match e {
                    Ok(ChatEvent::Delta { text }) => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            prop_assert_eq!(text, "Elementary.", "cut at {:?}: {:?}", cuts, events);
            ends_once(&events)?;
        }
        Ok(())
    });
}

#[test]
fn arbitrary_bytes_end_the_stream_once() {
    let bytes = prop::collection::vec(any::<u8>(), 0..512);
    let cases = (bytes, prop::collection::vec(any::<usize>(), 0..4));
    check(cases, |runtime, model, script, (body, cuts)| {
        ends_once(&stream_case(runtime, model, script, &body, &cuts)?)
    });
}

#[test]
fn a_well_formed_stream_split_anywhere_says_exactly_its_text() {
    let texts = prop::collection::vec("\\PC{0,10}", 0..8);
    let cases = (texts, prop::collection::vec(any::<usize>(), 0..8));
    check(cases, |runtime, model, script, (texts, cuts)| {
        let events = stream_case(runtime, model, script, &well_formed(&texts), &cuts)?;
        prop_assert!(
            matches!(events.last(), Some(Ok(ChatEvent::Done { .. }))),
            "{events:?}"
        );
        prop_assert_eq!(text_of(&events), texts.concat());
        ends_once(&events)
    });
}

#[test]
fn arbitrary_whole_completions_parse_or_fail_cleanly() {
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        chunk_line().prop_map(|line| line.trim_start_matches("data: ").as_bytes().to_vec()),
    ];
    let cases = (
        body,
        prop_oneof![Just(200u16), Just(400), Just(429), Just(500)],
    );
    check(cases, |runtime, model, script, (body, status)| {
        *script.lock().unwrap() = (status, "application/json", vec![Piece::Data(body.into())]);
        let reply = runtime
            .block_on(async { tokio::time::timeout(CASE_LIMIT, model.complete(request())).await });
        prop_assert!(reply.is_ok(), "a whole completion hung");
        Ok(())
    });
}
