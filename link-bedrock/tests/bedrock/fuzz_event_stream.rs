//! The ConverseStream reader under arbitrary bodies: event-stream frames with any event
//! names and payloads, frames with a flipped byte or cut short, and plain garbage, split
//! across reads anywhere. Whatever arrives, the stream yields deltas (and guardrail events)
//! and then exactly one end, a `Done` or an error; it never panics and never hangs; a
//! well-formed stream yields exactly its text.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use futures::StreamExt;
use link_bedrock::{Api, BedrockChatModel};
use link_core::testing::text_of;
use link_core::{ChatEvent, ChatModel, Result};
use link_testkit::bedrock::frame;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::request;

/// Cases per property: each is an HTTP exchange with the local server.
const CASES: u32 = 256;

/// The bound on one case; a stream that outlives it has hung.
const CASE_LIMIT: Duration = Duration::from_secs(10);

/// The body the server sends next, as separate writes.
type Script = Arc<Mutex<Vec<Bytes>>>;

/// A server on 127.0.0.1 that answers any request with the script's body as an event stream.
async fn serve(script: Script) -> String {
    let app = axum::Router::new().fallback(move || {
        let pieces = script.lock().unwrap().clone();
        async move {
            let chunks = futures::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
            Response::builder()
                .header(CONTENT_TYPE, "application/vnd.amazon.eventstream")
                .body(Body::from_stream(chunks))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A model on `api` whose client talks to `url`, without retries.
fn model(url: &str, api: Api) -> BedrockChatModel {
    let config = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDFUZZ",
            "fuzz-secret",
            None,
            None,
            "fuzz",
        ))
        .retry_config(aws_sdk_bedrockruntime::config::retry::RetryConfig::disabled())
        .build();
    BedrockChatModel::new(aws_sdk_bedrockruntime::Client::from_conf(config)).with_api(api)
}

/// A number as Bedrock might send it, or as it never should.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u32..1000).prop_map(Value::from),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!(2.5)),
        Just(json!("12")),
        Just(Value::Null),
    ]
}

/// One frame: a known event or exception with a payload of the right or a wrong shape, or
/// a name nobody knows.
fn any_frame() -> impl Strategy<Value = Bytes> {
    let text = prop_oneof!["\\PC{0,12}", Just(String::new())];
    let stop = prop_oneof![
        Just("end_turn".to_owned()),
        Just("max_tokens".to_owned()),
        Just("guardrail_intervened".to_owned()),
        Just("content_filtered".to_owned()),
        ".{0,12}"
    ];
    prop_oneof![
        4 => text.prop_map(|t| frame("event", "contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": t}}))),
        1 => Just(frame("event", "messageStart", &json!({"role": "assistant"}))),
        1 => Just(frame("event", "contentBlockStop", &json!({"contentBlockIndex": 0}))),
        2 => stop.prop_map(|s| frame("event", "messageStop", &json!({"stopReason": s}))),
        2 => (number(), number(), number()).prop_map(|(i, o, t)| frame("event", "metadata",
                &json!({"usage": {"inputTokens": i, "outputTokens": o, "totalTokens": t}, "metrics": {"latencyMs": 1}}))),
        1 => prop_oneof![
                Just("throttlingException"),
                Just("validationException"),
                Just("modelStreamErrorException"),
                Just("internalServerException"),
                Just("serviceUnavailableException"),
            ].prop_map(|name| frame("exception", name, &json!({"message": "boom"}))),
        1 => ("[a-zA-Z]{1,16}", ".{0,16}").prop_map(|(name, text)| frame("event", &name, &json!({"x": text}))),
        1 => (".{0,16}").prop_map(|text| frame("event", "contentBlockDelta", &json!(text))),
    ]
}

/// A body of frames, then perhaps damaged: a byte flipped, or cut short.
fn frames_body() -> impl Strategy<Value = Vec<u8>> {
    let damage = prop_oneof![
        2 => Just(None),
        1 => (any::<usize>(), any::<u8>()).prop_map(Some),
    ];
    (
        prop::collection::vec(any_frame(), 0..10),
        damage,
        prop::option::of(any::<usize>()),
    )
        .prop_map(|(frames, damage, cut)| {
            let mut body: Vec<u8> = frames.concat();
            if let (Some((at, byte)), false) = (damage, body.is_empty()) {
                let at = at % body.len();
                body[at] ^= byte | 1;
            }
            if let Some(cut) = cut {
                body.truncate(cut % (body.len() + 1));
            }
            body
        })
}

/// `body` cut at `cuts` (positions, taken modulo its length) into separate writes.
fn split(body: &[u8], cuts: &[usize]) -> Vec<Bytes> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| c % (body.len() + 1))
        .chain([0, body.len()])
        .collect();
    at.sort_unstable();
    at.dedup();
    at.windows(2)
        .map(|w| Bytes::copy_from_slice(&body[w[0]..w[1]]))
        .collect()
}

/// Streams one reply, bounded by [`CASE_LIMIT`].
async fn stream_once(model: &BedrockChatModel) -> Option<Vec<Result<ChatEvent>>> {
    let events = async {
        match model.stream(request("Hello")).await {
            Ok(stream) => stream.collect::<Vec<_>>().await,
            Err(error) => vec![Err(error)],
        }
    };
    tokio::time::timeout(CASE_LIMIT, events).await.ok()
}

/// Deltas and guardrail events, then exactly one end: a `Done` or an error.
fn ends_once(events: &[Result<ChatEvent>]) -> std::result::Result<(), TestCaseError> {
    let (last, before) = events
        .split_last()
        .ok_or_else(|| TestCaseError::fail("a stream that ended with no event"))?;
    for event in before {
        prop_assert!(
            matches!(
                event,
                Ok(ChatEvent::Delta { .. } | ChatEvent::GuardrailIntervened { .. })
            ),
            "only deltas come before the end: {events:?}"
        );
    }
    prop_assert!(
        matches!(last, Ok(ChatEvent::Done { .. }) | Err(_)),
        "the last event ends the stream: {events:?}"
    );
    Ok(())
}

/// Runs `property` for [`CASES`] cases of `strategy` against one server, on one runtime;
/// `property` gets the events of the reply (streamed on `api`) to the body it chose.
fn check<S: Strategy>(
    api: Api,
    strategy: S,
    body: impl Fn(&S::Value) -> Vec<Bytes>,
    property: impl Fn(&S::Value, &[Result<ChatEvent>]) -> std::result::Result<(), TestCaseError>,
) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let script = Script::default();
    let model = model(&runtime.block_on(serve(script.clone())), api);
    let mut runner = TestRunner::new(Config::with_cases(CASES));
    let outcome = runner.run(&strategy, |input| {
        *script.lock().unwrap() = body(&input);
        let events = runtime
            .block_on(stream_once(&model))
            .ok_or_else(|| TestCaseError::fail("the stream hung"))?;
        property(&input, &events)
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

#[test]
fn any_frames_damaged_and_split_anywhere_end_the_stream_once() {
    let cases = (frames_body(), prop::collection::vec(any::<usize>(), 0..6));
    check(
        Api::Converse,
        cases,
        |(body, cuts)| split(body, cuts),
        |_, e| ends_once(e),
    );
}

#[test]
fn arbitrary_bytes_end_the_stream_once() {
    let bytes = prop::collection::vec(any::<u8>(), 0..512);
    let cases = (bytes, prop::collection::vec(any::<usize>(), 0..4));
    check(
        Api::Converse,
        cases,
        |(body, cuts)| split(body, cuts),
        |_, e| ends_once(e),
    );
}

#[test]
fn a_well_formed_stream_split_anywhere_says_exactly_its_text() {
    let cases = (
        prop::collection::vec("\\PC{1,10}", 0..8),
        prop::collection::vec(any::<usize>(), 0..8),
    );
    let body = |(texts, cuts): &(Vec<String>, Vec<usize>)| {
        let mut frames: Vec<Bytes> = texts
            .iter()
            .map(|t| {
                frame(
                    "event",
                    "contentBlockDelta",
                    &json!({"contentBlockIndex": 0, "delta": {"text": t}}),
                )
            })
            .collect();
        frames.push(frame(
            "event",
            "messageStop",
            &json!({"stopReason": "end_turn"}),
        ));
        frames.push(frame("event", "metadata", &json!({"usage": {"inputTokens": 3, "outputTokens": 5, "totalTokens": 8}, "metrics": {"latencyMs": 1}})));
        split(&frames.concat(), cuts)
    };
    check(Api::Converse, cases, body, |(texts, _), events| {
        prop_assert!(
            matches!(events.last(), Some(Ok(ChatEvent::Done { .. }))),
            "{events:?}"
        );
        prop_assert_eq!(text_of(events), texts.concat());
        ends_once(events)
    });
}

/// An InvokeModel (Nova) answer: the right shape with any text, stop reason and counts (sums
/// that overflow included), or any JSON shape, or any bytes.
fn nova_body() -> impl Strategy<Value = Vec<u8>> {
    let count = prop_oneof![
        (0u64..1000).prop_map(Value::from),
        Just(json!(u64::MAX)),
        number()
    ];
    let nova = (
        "\\PC{0,16}",
        ".{0,12}",
        prop::option::of((count.clone(), count.clone(), prop::option::of(count))),
        prop::option::of(prop_oneof![Just("INTERVENED".to_owned()), ".{0,8}"]),
    )
        .prop_map(|(text, stop, usage, guardrail)| {
            let mut body = json!({"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": stop});
            if let Some((input, output, total)) = usage {
                body["usage"] = json!({"inputTokens": input, "outputTokens": output});
                if let Some(total) = total {
                    body["usage"]["totalTokens"] = total;
                }
            }
            if let Some(action) = guardrail {
                body["amazon-bedrock-guardrailAction"] = json!(action);
            }
            body.to_string().into_bytes()
        });
    prop_oneof![
        4 => nova,
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

#[test]
fn any_invoke_model_answer_is_a_reply_or_an_error() {
    let cases = nova_body();
    check(
        Api::InvokeModel,
        cases,
        |body| vec![Bytes::from(body.clone())],
        |_, e| ends_once(e),
    );
}
