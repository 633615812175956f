//! The decorators pass every port's behaviour through unchanged (each runs its port's
//! conformance suite) and record what happened, once per call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use link_auth::{GovernorRateLimiter, RateLimitConfig};
use link_core::prompt::PromptStyle;
use link_core::testing::{
    MockConversationStore, ScriptedChatModel, ScriptedExtractor, Step, conformance,
};
use link_core::{
    ChatModel, ChatRequest, ChatResponse, ContentPolicy, ConversationId, ConversationStore, Error,
    MemoryStore, Message, Month, PersonaExtractor, Principal, RateDecision, RateLimiter, Role,
    StoreUsage,
};
use link_telemetry::{
    InstrumentedChatModel, InstrumentedExtractor, InstrumentedLimiter, InstrumentedStore, Metrics,
    PriceTable,
};
use support::value;

fn metrics() -> Arc<Metrics> {
    Arc::new(Metrics::new(
        "scripted=1000000/2000000".parse::<PriceTable>().unwrap(),
    ))
}

fn chat(steps: Vec<Step>, metrics: &Arc<Metrics>) -> InstrumentedChatModel<ScriptedChatModel> {
    let model = ScriptedChatModel::new(steps);
    InstrumentedChatModel::new(model, "openai", metrics.clone(), ContentPolicy::None)
}

const CHAT: &str = r#"operation="chat",provider="openai",model="scripted""#;

fn outcome(text: &str, outcome: &str) -> f64 {
    value(
        text,
        &format!("link_model_requests_total{{{CHAT},outcome=\"{outcome}\"}}"),
    )
}

#[tokio::test]
async fn an_instrumented_chat_model_conforms() {
    let metrics = metrics();
    conformance::chat_model(&chat(vec![Step::Reply("Ahoy there.".into())], &metrics)).await;
    let text = metrics.render();
    assert!(outcome(&text, "ok") >= 2.0, "{text}");
    let in_flight = format!("link_model_requests_in_flight{{{CHAT}}}");
    assert_eq!(value(&text, &in_flight), 0.0, "{text}");
}

#[tokio::test]
async fn a_stream_gives_its_first_token_its_gaps_tokens_and_cost() {
    let metrics = metrics();
    let model = chat(vec![Step::Reply("one two three".into())], &metrics);
    let request = conformance::chat::sample_request();
    let events: Vec<_> = model.stream(request).await.unwrap().collect().await;
    assert_eq!(events.len(), 4, "three deltas and done");
    let text = metrics.render();
    let series = |name: &str| value(&text, &format!("{name}{{{CHAT}}}"));
    assert_eq!(series("link_model_time_to_first_token_seconds_count"), 1.0);
    assert_eq!(series("link_model_chunk_gap_seconds_count"), 2.0);
    assert_eq!(series("link_model_request_duration_seconds_count"), 1.0);
    assert_eq!(outcome(&text, "ok"), 1.0);
    // The scripted model bills a token per four bytes: "one two three" is 4 tokens.
    let tokens = |t: &str| {
        value(
            &text,
            &format!("link_model_tokens_total{{{CHAT},token_type=\"{t}\"}}"),
        )
    };
    assert_eq!(tokens("output"), 4.0);
    let input = tokens("input");
    assert!(input > 0.0);
    // A dollar a token in, two out (a million times the price table's unit).
    let cost = value(&text, &format!("link_model_cost_usd_total{{{CHAT}}}"));
    assert!((cost - (input + 8.0)).abs() < 1e-9, "{cost}");
}

#[tokio::test]
async fn failures_and_cancellations_count_under_their_outcome() {
    let metrics = metrics();
    let model = chat(
        vec![
            Step::Fail(Error::provider("openai", "overloaded").with_retryable(true)),
            Step::FailMidStream("half a".into(), Error::Timeout { what: "x".into() }),
            Step::Reply("never read to its end".into()),
        ],
        &metrics,
    );
    let request = conformance::chat::sample_request;
    assert!(model.stream(request()).await.is_err());
    let events: Vec<_> = model.stream(request()).await.unwrap().collect().await;
    assert!(events.last().unwrap().is_err());
    let mut dropped = model.stream(request()).await.unwrap();
    dropped.next().await.unwrap().unwrap();
    let in_flight = format!("link_model_requests_in_flight{{{CHAT}}}");
    assert_eq!(value(&metrics.render(), &in_flight), 1.0);
    drop(dropped);
    let text = metrics.render();
    assert_eq!(outcome(&text, "upstream_error"), 1.0, "{text}");
    assert_eq!(outcome(&text, "timeout"), 1.0, "{text}");
    assert_eq!(outcome(&text, "cancelled"), 1.0, "{text}");
    assert_eq!(outcome(&text, "ok"), 0.0, "{text}");
    assert_eq!(value(&text, &in_flight), 0.0);
}

#[tokio::test]
async fn guardrail_interventions_are_counted_once_by_kind() {
    let metrics = metrics();
    let model = chat(
        vec![Step::Guardrail("I can't talk about that.".into())],
        &metrics,
    );
    let events: Vec<_> = (model
        .stream(conformance::chat::sample_request())
        .await
        .unwrap())
    .collect()
    .await;
    assert_eq!(events.len(), 1);
    model
        .complete(conformance::chat::sample_request())
        .await
        .unwrap();
    let text = metrics.render();
    let kind = r#"link_guardrail_interventions_total{provider="openai",model="scripted",kind="guardrail_intervened"}"#;
    assert_eq!(value(&text, kind), 2.0, "{text}");
    assert_eq!(outcome(&text, "guardrail_blocked"), 2.0, "{text}");
}

#[tokio::test]
async fn an_instrumented_extractor_conforms_and_counts() {
    let metrics = metrics();
    let extractor = InstrumentedExtractor::new(
        ScriptedExtractor::default(),
        "local",
        metrics.clone(),
        ContentPolicy::Full,
    );
    conformance::persona_extractor(&extractor, "Ada Lovelace").await;
    let failing = InstrumentedExtractor::new(
        ScriptedExtractor::failing(Error::Refusal {
            message: "no".into(),
        }),
        "local",
        metrics.clone(),
        ContentPolicy::None,
    );
    assert!(failing.extract("anyone").await.is_err());
    let text = metrics.render();
    let labels = r#"operation="extract_persona",provider="local",model="scripted""#;
    let ok = format!("link_model_requests_total{{{labels},outcome=\"ok\"}}");
    let refused = format!("link_model_requests_total{{{labels},outcome=\"refusal\"}}");
    assert!(value(&text, &ok) >= 1.0, "{text}");
    assert_eq!(value(&text, &refused), 1.0, "{text}");
    assert_eq!(
        extractor.model_id(),
        ScriptedExtractor::default().model_id()
    );
}

#[tokio::test]
async fn an_instrumented_store_conforms_and_times_each_operation() {
    let metrics = metrics();
    let store = InstrumentedStore::new(MemoryStore::default(), "memory", metrics.clone());
    conformance::conversation_store(&store).await;
    let text = metrics.render();
    let count = |operation: &str, outcome: &str| {
        value(
            &text,
            &format!(
                "link_store_operation_duration_seconds_count{{store=\"memory\",operation=\"{operation}\",outcome=\"{outcome}\"}}"
            ),
        )
    };
    for operation in [
        "create",
        "get",
        "list",
        "delete",
        "append",
        "append_all",
        "messages",
        "token_usage",
        "ping",
    ] {
        assert!(count(operation, "ok") >= 1.0, "{operation}: {text}");
    }
    assert!(count("append", "not_found") >= 1.0, "{text}");
}

#[tokio::test]
async fn every_store_method_reaches_the_inner_stores_own() {
    // A store's own append_all is one transaction: the decorator must not fall back to the
    // port's default (one append per message).
    let mut inner = MockConversationStore::new();
    inner
        .expect_append_all()
        .times(1)
        .returning(|_, _, _| Ok(()));
    inner.expect_append().never();
    inner.expect_ping().times(1).returning(|| Ok(()));
    // A store's own usage is one query: not the default's read of everything.
    inner
        .expect_usage()
        .times(1)
        .returning(|_, _| Ok(StoreUsage::default()));
    inner.expect_list().never();
    inner
        .expect_token_usage()
        .times(1)
        .returning(|_, _| Ok(Vec::new()));
    let store = InstrumentedStore::new(inner, "mock", metrics());
    let messages = [
        Message::new(Role::User, "hi"),
        Message::new(Role::Assistant, "ho"),
    ];
    store
        .append_all("alice", ConversationId::new(), &messages)
        .await
        .unwrap();
    store.ping().await.unwrap();
    store.usage("alice", None).await.unwrap();
    store.token_usage("alice", Month::current()).await.unwrap();
}

#[test]
fn an_instrumented_limiter_weighs_requests_and_keeps_the_token_quota() {
    let metrics = metrics();
    let config = RateLimitConfig {
        requests: 4,
        burst: 4,
        period: Duration::from_secs(60),
        ..RateLimitConfig::default()
    };
    let inner = GovernorRateLimiter::new(config)
        .unwrap()
        .with_daily_tokens(Some(100));
    let limiter = InstrumentedLimiter::new(inner, "user", &metrics);
    let alice = Principal::new("alice-weighed");
    // A cost of 4 takes the whole burst of the inner limiter: the next request is denied.
    assert!(matches!(
        limiter.check_n(&alice, 4),
        RateDecision::Allowed { .. }
    ));
    assert!(matches!(limiter.check(&alice), RateDecision::Denied { .. }));
    let bob = Principal::new("bob-weighed");
    limiter.spend_tokens(&bob, 100);
    assert!(limiter.tokens_exhausted(&bob).is_some());
    assert!(matches!(
        limiter.admit(&bob, 2, true),
        RateDecision::Exhausted { .. }
    ));
    let text = metrics.render();
    let series = |decision: &str| {
        value(
            &text,
            &format!(r#"link_rate_limit_decisions_total{{scope="user",decision="{decision}"}}"#),
        )
    };
    assert_eq!(
        (series("allowed"), series("denied"), series("exhausted")),
        (1.0, 1.0, 1.0)
    );
}

/// A small model: it wants the compact prompt, has a small window and counts its own way.
#[derive(Debug)]
struct Small;

/// One token per byte.
#[derive(Debug)]
struct Bytes;

impl link_core::TokenCounter for Bytes {
    fn count(&self, text: &str) -> usize {
        text.len()
    }
}

#[async_trait::async_trait]
impl ChatModel for Small {
    async fn complete(&self, _: ChatRequest) -> link_core::Result<ChatResponse> {
        Err(Error::Cancelled)
    }

    fn model_id(&self) -> String {
        "small".into()
    }

    fn prompt_style(&self) -> PromptStyle {
        PromptStyle::Compact
    }

    fn context_window(&self) -> usize {
        1024
    }

    fn token_counter(&self) -> std::sync::Arc<dyn link_core::TokenCounter> {
        std::sync::Arc::new(Bytes)
    }
}

#[test]
fn an_instrumented_chat_model_keeps_its_prompt_style_window_and_counter() {
    let model = InstrumentedChatModel::new(Small, "local", metrics(), ContentPolicy::None);
    assert_eq!(model.prompt_style(), PromptStyle::Compact);
    assert_eq!(model.context_window(), 1024);
    assert_eq!(model.token_counter().count("abcdefgh"), 8);
}

#[test]
fn an_instrumented_limiter_conforms_and_counts_denials() {
    let metrics = metrics();
    let config = RateLimitConfig {
        requests: 5,
        burst: 5,
        period: Duration::from_secs(60),
        ..RateLimitConfig::default()
    };
    let limiter =
        InstrumentedLimiter::new(GovernorRateLimiter::new(config).unwrap(), "user", &metrics);
    conformance::rate_limiter(&limiter);
    let alice = Principal::new("alice-denied");
    let denied_before = denied(&metrics);
    for _ in 0..6 {
        limiter.check(&alice);
    }
    assert_eq!(denied(&metrics), denied_before + 1.0);
    assert!(!metrics.render().contains("alice"));
}

fn denied(metrics: &Metrics) -> f64 {
    let series = r#"link_rate_limit_decisions_total{scope="user",decision="denied"}"#;
    value(&metrics.render(), series)
}
