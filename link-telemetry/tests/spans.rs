//! What the spans carry: the GenAI attributes of a call, and prompt and reply text only
//! under the content policy `full`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use futures::StreamExt;
use link_core::testing::{ScriptedChatModel, conformance};
use link_core::{ChatModel, ContentPolicy};
use link_telemetry::{InstrumentedChatModel, Metrics, PriceTable, SPAN_TARGET};
use support::Captured;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

const REPLY: &str = "Elementary, my dear Watson.";

/// Streams one reply under `policy` with a subscriber that takes this crate's spans and
/// events; gives back everything they recorded.
async fn one_turn(policy: ContentPolicy) -> Vec<String> {
    let captured = Captured::default();
    let filter = Targets::new().with_target(SPAN_TARGET, Level::DEBUG);
    let subscriber = tracing_subscriber::registry().with(captured.clone().with_filter(filter));
    let _default = tracing::subscriber::set_default(subscriber);
    stream_one(policy).await;
    captured.lines()
}

/// Streams one reply under `policy` through a model in its decorator.
async fn stream_one(policy: ContentPolicy) {
    let metrics = Arc::new(Metrics::new(PriceTable::default()));
    let model = InstrumentedChatModel::new(
        ScriptedChatModel::replying([REPLY]),
        "bedrock",
        metrics,
        policy,
    );
    let events: Vec<_> = (model
        .stream(conformance::chat::sample_request())
        .await
        .unwrap())
    .collect()
    .await;
    assert!(events.iter().all(Result::is_ok));
}

#[cfg(feature = "otlp")]
/// What one streamed turn under the policy `full` recorded, inside a root span when `rooted`,
/// with an OpenTelemetry layer whose sampler is `sampler`.
async fn traced_turn(sampler: opentelemetry_sdk::trace::Sampler, rooted: bool) -> String {
    use opentelemetry::trace::TracerProvider as _;
    use tracing::Instrument;
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_sampler(sampler)
        .build();
    let captured = Captured::default();
    let filter = Targets::new().with_target(SPAN_TARGET, Level::DEBUG);
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
    let subscriber = (tracing_subscriber::registry())
        .with(otel.with_filter(filter.clone()))
        .with(captured.clone().with_filter(filter));
    let _default = tracing::subscriber::set_default(subscriber);
    let root = match rooted {
        true => tracing::debug_span!(target: SPAN_TARGET, "http"),
        false => tracing::Span::none(),
    };
    stream_one(ContentPolicy::Full).instrument(root).await;
    captured.lines().join("\n")
}

#[cfg(feature = "otlp")]
#[tokio::test]
async fn inside_the_marker_of_a_request_left_out_no_span_opens_and_no_text_is_made() {
    use link_telemetry::otlp::RequestSampler;
    use tracing::Instrument;
    let turn = |marked: bool| async move {
        let captured = Captured::default();
        let filter = Targets::new().with_target(SPAN_TARGET, Level::DEBUG);
        let subscriber = tracing_subscriber::registry().with(captured.clone().with_filter(filter));
        let _default = tracing::subscriber::set_default(subscriber);
        let root = match marked {
            true => RequestSampler::unsampled_span(),
            false => tracing::debug_span!(target: SPAN_TARGET, "http"),
        };
        stream_one(ContentPolicy::Full).instrument(root).await;
        captured.lines().join("\n")
    };
    let kept = turn(false).await;
    assert!(kept.contains("gen_ai.operation.name=chat"), "{kept}");
    assert!(kept.contains("operation.details"), "{kept}");
    let left_out = turn(true).await;
    assert!(!left_out.contains("gen_ai.operation.name"), "{left_out}");
    assert!(!left_out.contains("operation.details"), "{left_out}");
}

#[cfg(feature = "otlp")]
#[tokio::test]
async fn the_text_of_an_unsampled_call_is_never_serialised() {
    use opentelemetry_sdk::trace::Sampler;
    let text = |lines: String| lines.contains("operation.details");
    assert!(text(traced_turn(Sampler::AlwaysOn, false).await));
    assert!(!text(traced_turn(Sampler::AlwaysOff, false).await));
}

#[cfg(feature = "otlp")]
#[tokio::test]
async fn a_request_left_out_of_the_traces_opens_no_more_spans() {
    use opentelemetry_sdk::trace::Sampler;
    let model_span = |lines: String| lines.contains("gen_ai.operation.name=chat");
    assert!(model_span(traced_turn(Sampler::AlwaysOn, true).await));
    assert!(!model_span(traced_turn(Sampler::AlwaysOff, true).await));
}

#[tokio::test]
async fn a_call_has_the_genai_attributes() {
    let lines = one_turn(ContentPolicy::Hash).await;
    for expected in [
        "otel.name=chat scripted",
        "otel.kind=client",
        "gen_ai.operation.name=chat",
        "gen_ai.provider.name=aws.bedrock",
        "gen_ai.system=aws.bedrock",
        "gen_ai.request.model=scripted",
        "gen_ai.output.type=text",
        "gen_ai.response.finish_reasons=end_turn",
    ] {
        assert!(
            lines.contains(&expected.to_owned()),
            "{expected}: {lines:#?}"
        );
    }
    let usage = |name: &str| lines.iter().any(|l| l.starts_with(name));
    assert!(usage("gen_ai.usage.input_tokens=") && usage("gen_ai.usage.output_tokens="));
}

#[tokio::test]
async fn text_goes_into_spans_only_under_the_full_policy() {
    let request = conformance::chat::sample_request();
    let prompt = request.messages.last().unwrap().content.clone();
    let full = one_turn(ContentPolicy::Full).await.join("\n");
    assert!(full.contains("event:gen_ai.client.inference.operation.details"));
    assert!(full.contains(&prompt), "{full}");
    assert!(full.contains(REPLY), "{full}");
    for policy in [ContentPolicy::Hash, ContentPolicy::None] {
        let lines = one_turn(policy).await.join("\n");
        assert!(!lines.contains(&prompt), "{policy:?}: {lines}");
        assert!(!lines.contains("Elementary"), "{policy:?}: {lines}");
        assert!(!lines.contains("operation.details"), "{policy:?}: {lines}");
    }
}
