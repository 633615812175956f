//! The real `link-server` binary exports its spans over OTLP (HTTP/protobuf) to a receiver on
//! 127.0.0.1 that decodes them with the `opentelemetry-proto` types: one streamed chat turn
//! is one trace, the HTTP server span at its root, the token check, the store and the model
//! call below it, the model call with the GenAI attributes and the request id linking the
//! trace to the turn's audit line. Prompt and reply text appear only under the audit content
//! policy `full`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use support::mock_openai::{PROMPT_TOKENS, REPLY, completion_tokens};
use support::{Options, Server, Stack, parse_sse, temp_database};

/// What the receiver got: each span with its service's name.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Span)>>>);

impl Received {
    fn spans(&self) -> Vec<(String, Span)> {
        self.0.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the spans received; the bound only fails a test whose
    /// spans never come.
    async fn wait_for(&self, done: impl Fn(&[(String, Span)]) -> bool) -> Vec<(String, Span)> {
        let start = Instant::now();
        loop {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            let names: Vec<_> = spans.iter().map(|(_, s)| s.name.clone()).collect();
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "never came: {names:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The spans received once they stop coming (none for half a second, after the first).
    async fn settled(&self) -> Vec<(String, Span)> {
        self.wait_for(|spans| !spans.is_empty()).await;
        let mut seen = self.spans().len();
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = self.spans().len();
            if now == seen {
                return self.spans();
            }
            seen = now;
        }
    }
}

/// `POST /v1/traces` on 127.0.0.1, port chosen now; the collector's endpoint base URL.
async fn receiver() -> (Received, String) {
    async fn export(
        State(received): State<Received>,
        body: Bytes,
    ) -> impl axum::response::IntoResponse {
        let request = ExportTraceServiceRequest::decode(body).expect("a valid OTLP export");
        let mut spans = received.0.lock().unwrap();
        for resource in request.resource_spans {
            let attributes = resource.resource.map(|r| r.attributes).unwrap_or_default();
            let service = attribute(&attributes, "service.name").unwrap_or_default();
            for scope in resource.scope_spans {
                spans.extend(scope.spans.into_iter().map(|s| (service.clone(), s)));
            }
        }
        // An empty ExportTraceServiceResponse: full success.
        (
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            Vec::new(),
        )
    }
    let received = Received::default();
    let app = Router::new()
        .route("/v1/traces", post(export))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (received, url)
}

/// An attribute's value as text (numbers in decimal).
fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match value.value.as_ref()? {
        AnyValue::StringValue(s) => Some(s.clone()),
        AnyValue::IntValue(i) => Some(i.to_string()),
        AnyValue::DoubleValue(d) => Some(d.to_string()),
        AnyValue::BoolValue(b) => Some(b.to_string()),
        other => Some(format!("{other:?}")),
    }
}

fn attr(span: &Span, key: &str) -> Option<String> {
    attribute(&span.attributes, key)
}

/// Every text a span carries: its name, attributes and events' attributes.
fn texts(span: &Span) -> Vec<String> {
    let events = span.events.iter().flat_map(|e| e.attributes.iter());
    let values = span.attributes.iter().chain(events);
    let values = values.filter_map(|kv| attribute(std::slice::from_ref(kv), &kv.key));
    std::iter::once(span.name.clone()).chain(values).collect()
}

const SEND_ROUTE: &str = "POST /v1/conversations/{id}/messages";
const MESSAGE: &str = "What do you make of the dog in the night-time?";

/// A server exporting to a receiver, with `env` on top; one streamed turn sent as request
/// `turn-1`; every span of that turn's trace once its model call and its store write are in.
///
/// The write of a streamed turn happens on the task the engine spawns to drive the stream;
/// the engine spawns it in the request's span, so the write is in the turn's trace too.
async fn one_turn(env: Vec<(&'static str, String)>) -> (Stack, Vec<(String, Span)>) {
    let (received, endpoint) = receiver().await;
    let mut env = env;
    env.extend([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()),
    ]);
    let s = Stack::start(env).await;
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let response = s.server.send_streamed(&token, &id, MESSAGE, "turn-1").await;
    assert_eq!(response.status(), 200);
    let events = parse_sse(&response.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "done", "{events:?}");
    let root_of_turn = |spans: &[(String, Span)]| {
        spans
            .iter()
            .find(|(_, s)| {
                s.name == SEND_ROUTE && attr(s, "client_request_id").as_deref() == Some("turn-1")
            })
            .map(|(_, s)| s.trace_id.clone())
    };
    let spans = received
        .wait_for(|spans| {
            let Some(trace) = root_of_turn(spans) else {
                return false;
            };
            let in_turn =
                |name: &str| (spans.iter()).any(|(_, s)| s.trace_id == trace && s.name == name);
            in_turn("chat gpt-4o-mini") && in_turn("splice link.store")
        })
        .await;
    let trace = root_of_turn(&spans).unwrap();
    let turn = (spans.into_iter())
        .filter(|(_, s)| s.trace_id == trace)
        .collect();
    (s, turn)
}

fn named<'a>(spans: &'a [(String, Span)], name: &str) -> &'a Span {
    let found: Vec<_> = spans.iter().filter(|(_, s)| s.name == name).collect();
    assert_eq!(
        found.len(),
        1,
        "one {name}: {:#?}",
        spans.iter().map(|(_, s)| &s.name).collect::<Vec<_>>()
    );
    &found[0].1
}

/// Whether `child`'s parent chain reaches `ancestor`.
fn descends(spans: &[(String, Span)], child: &Span, ancestor: &Span) -> bool {
    let mut parent = child.parent_span_id.clone();
    while !parent.is_empty() {
        if parent == ancestor.span_id {
            return true;
        }
        let Some((_, next)) = spans.iter().find(|(_, s)| s.span_id == parent) else {
            return false;
        };
        parent = next.parent_span_id.clone();
    }
    false
}

#[tokio::test]
async fn a_chat_turn_is_one_trace_with_the_genai_attributes() {
    let env = vec![
        ("OTEL_SERVICE_NAME", "link-under-test".to_owned()),
        ("LINK_AUDIT_CONTENT", "full".to_owned()),
    ];
    let (s, spans) = one_turn(env).await;
    assert!(
        spans
            .iter()
            .all(|(service, _)| service == "link-under-test")
    );

    // The tree: the HTTP server span, then auth, store and the model call. The log's
    // `request` span is not exported: its children hang from the HTTP span.
    let root = named(&spans, SEND_ROUTE);
    assert!(root.parent_span_id.is_empty(), "the HTTP span is the root");
    assert_eq!(root.kind, SpanKind::Server as i32);
    assert_eq!(
        attr(root, "http.route").as_deref(),
        Some("/v1/conversations/{id}/messages")
    );
    assert_eq!(attr(root, "http.request.method").as_deref(), Some("POST"));
    assert_eq!(
        attr(root, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert!(
        spans.iter().all(|(_, span)| span.name != "request"),
        "a log span was exported"
    );
    // The server's request id (the one the audit line trusts), and the client's beside it.
    let request_id = attr(root, "request_id").expect("the server span names the request id");
    assert_eq!(attr(root, "client_request_id").as_deref(), Some("turn-1"));
    let auth = named(&spans, "authenticate");
    assert_eq!(auth.parent_span_id, root.span_id);
    let chat = named(&spans, "chat gpt-4o-mini");
    assert_eq!(chat.parent_span_id, root.span_id);
    assert_eq!(chat.kind, SpanKind::Client as i32);
    // The turn's one read: the conversation, its window, the usage and who the user is.
    let read = named(&spans, "turn_state link.store");
    assert!(descends(&spans, read, root), "the read outside the request");
    assert_eq!(attr(read, "db.system.name").as_deref(), Some("sqlite"));
    let write = named(&spans, "splice link.store");
    assert!(
        descends(&spans, write, root),
        "the write outside the request"
    );
    assert_eq!(attr(write, "db.operation.name").as_deref(), Some("splice"));

    // The GenAI attributes of the model call.
    let output_tokens = completion_tokens(REPLY).to_string();
    let input_tokens = PROMPT_TOKENS.to_string();
    for (key, expected) in [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "openai"),
        ("gen_ai.system", "openai"),
        ("gen_ai.request.model", "gpt-4o-mini"),
        ("gen_ai.output.type", "text"),
        ("gen_ai.usage.input_tokens", input_tokens.as_str()),
        ("gen_ai.usage.output_tokens", output_tokens.as_str()),
        ("gen_ai.response.finish_reasons", "end_turn"),
    ] {
        assert_eq!(attr(chat, key).as_deref(), Some(expected), "{key}");
    }

    // Under `full`, the text of the turn, as the GenAI conventions shape it.
    let details = (chat.events.iter())
        .find(|e| e.name == "gen_ai.client.inference.operation.details")
        .expect("the content event under the full policy");
    let input = attribute(&details.attributes, "gen_ai.input.messages").unwrap();
    let output = attribute(&details.attributes, "gen_ai.output.messages").unwrap();
    let input: serde_json::Value = serde_json::from_str(&input).unwrap();
    let output: serde_json::Value = serde_json::from_str(&output).unwrap();
    let last = input.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["role"], "user");
    assert_eq!(last["parts"][0]["content"], MESSAGE);
    assert_eq!(output[0]["parts"][0]["content"], REPLY);
    assert_eq!(output[0]["finish_reason"], "end_turn");

    // The request id links the trace to the audit line, which is not in the trace itself.
    let audit = (s.server)
        .wait_for_audit(&format!("\"request_id\":\"{request_id}\""))
        .await;
    assert!(
        audit.contains("\"client_request_id\":\"turn-1\""),
        "{audit}"
    );
    assert!(
        audit.contains(MESSAGE),
        "the full policy audits the text: {audit}"
    );
    let all: Vec<String> = spans.iter().flat_map(|(_, s)| texts(s)).collect();
    assert!(all.iter().all(|t| !t.contains("AUDIT_LOG")), "{all:#?}");
}

#[tokio::test]
async fn without_the_full_policy_no_text_reaches_the_trace() {
    let (_s, spans) = one_turn(vec![("LINK_AUDIT_CONTENT", "hash".to_owned())]).await;
    // Without OTEL_SERVICE_NAME the service is link-server.
    assert!(spans.iter().all(|(service, _)| service == "link-server"));
    let chat = named(&spans, "chat gpt-4o-mini");
    assert_eq!(
        attr(chat, "gen_ai.request.model").as_deref(),
        Some("gpt-4o-mini")
    );
    assert!(
        chat.events
            .iter()
            .all(|e| !e.name.contains("operation.details"))
    );
    for text in spans.iter().flat_map(|(_, s)| texts(s)) {
        assert!(!text.contains("dog in the night"), "{text}");
        assert!(!text.contains("Elementary"), "{text}");
        assert!(!text.contains("alice"), "{text}");
    }
}

/// With `traceidratio` at one half the sampler keeps some requests and leaves out others, and
/// a request is traced whole or not at all: every span exported belongs to the trace of a
/// server span that was exported too (a request left out exports no orphaned token check or
/// store read), and every kept read has its token check and its store read.
#[tokio::test]
async fn the_sampler_keeps_whole_requests_or_nothing() {
    const READS: usize = 40;
    let (received, endpoint) = receiver().await;
    let s = Stack::start(vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()),
        ("OTEL_TRACES_SAMPLER", "traceidratio".to_owned()),
        ("OTEL_TRACES_SAMPLER_ARG", "0.5".to_owned()),
        ("LINK_RATE_LIMIT_PER_MINUTE", "1000".to_owned()),
    ])
    .await;
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    for _ in 0..READS {
        s.server.read(&token, &id).await;
    }
    let spans = received.settled().await;

    let roots: Vec<&Span> = (spans.iter().map(|(_, s)| s))
        .filter(|s| s.parent_span_id.is_empty())
        .collect();
    assert!(
        roots.iter().all(|s| s.kind == SpanKind::Server as i32),
        "a root that is not a request's server span: {roots:#?}"
    );
    for (_, span) in &spans {
        assert!(
            roots.iter().any(|root| root.trace_id == span.trace_id),
            "{} was exported without its request's span",
            span.name
        );
    }
    let reads: Vec<&&Span> = (roots.iter())
        .filter(|s| s.name == "GET /v1/conversations/{id}")
        .collect();
    // All 40 or none would happen once in 2^39 runs.
    assert!(
        !reads.is_empty() && reads.len() < READS,
        "{} of {READS} reads kept at one half",
        reads.len()
    );
    let has_child = |read: &Span, is: &dyn Fn(&Span) -> bool| {
        (spans.iter()).any(|(_, s)| s.parent_span_id == read.span_id && is(s))
    };
    for read in reads {
        assert!(
            has_child(read, &|s| s.name == "authenticate"),
            "a kept read without its token check"
        );
        assert!(
            has_child(read, &|s| attr(s, "db.system.name").as_deref()
                == Some("sqlite")),
            "a kept read without its store read"
        );
    }
}

/// An OTLP setting the server cannot honour is refused at start, saying which and why, rather
/// than quietly replaced (the SDK alone would trace every request for a sampler it does not
/// know).
#[test]
fn an_otlp_setting_it_cannot_honour_is_refused_at_start() {
    for (name, value, expected) in [
        (
            "OTEL_TRACES_SAMPLER",
            "ratio",
            "OTEL_TRACES_SAMPLER=ratio is not a sampler",
        ),
        (
            "OTEL_TRACES_SAMPLER_ARG",
            "2",
            "OTEL_TRACES_SAMPLER_ARG=2 is not a ratio",
        ),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "grpc",
            "grpc is not supported",
        ),
    ] {
        let (_dir, database) = temp_database();
        let (status, stderr) = Server::refused(Options {
            database: &database,
            openai_base_url: "http://127.0.0.1:9/v1",
            env: vec![
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    "http://127.0.0.1:9".to_owned(),
                ),
                ("OTEL_TRACES_SAMPLER", "traceidratio".to_owned()),
                (name, value.to_owned()),
            ],
        });
        assert!(!status.success(), "{name}={value} started: {stderr}");
        assert!(stderr.contains(expected), "{name}={value}: {stderr}");
    }
}
