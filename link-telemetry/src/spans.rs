//! The spans this crate opens and their attributes, as the OpenTelemetry semantic conventions
//! name them: model calls with the generative AI ones (`gen_ai.*`, the span named
//! `{operation} {model}`), store operations with the database ones (`db.*`), token checks.
//! `tracing-opentelemetry` reads `otel.name`, `otel.kind` and `otel.status_code` as the
//! span's name, kind and status. Every span is at DEBUG level under [`SPAN_TARGET`]: a log
//! at INFO does not pay for them, an exporter asks for them.

use link_core::{Error, GenerationParams, StopReason, Usage};
use tracing::Span;
use tracing::field::Empty;

use crate::instruments::ModelInstruments;
use crate::{SPAN_TARGET, UNSAMPLED_TARGET};

/// What the conventions call the operation: every call Link makes is a chat completion (a
/// persona extraction is one whose output is JSON).
const OPERATION: &str = "chat";

/// The conventions' `gen_ai.provider.name` for a Link provider name.
pub(crate) fn provider_name(provider: &str) -> &'static str {
    match provider {
        "openai" => "openai",
        "bedrock" => "aws.bedrock",
        "local" => "llama.cpp",
        _ => "other",
    }
}

/// Whether `span` is in a trace OpenTelemetry does not keep (false for a span no
/// OpenTelemetry layer knows: then whoever takes the spans decides).
#[cfg(feature = "otlp")]
pub(crate) fn unsampled(span: &Span) -> bool {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if span.is_disabled() {
        return false;
    }
    let context = span.context();
    let otel = context.span();
    let ids = otel.span_context();
    ids.is_valid() && !ids.is_sampled()
}

/// Without OpenTelemetry every span is kept by whoever takes it.
#[cfg(not(feature = "otlp"))]
pub(crate) fn unsampled(_span: &Span) -> bool {
    false
}

/// Whether the code running now is in a request whose trace is not kept: the current span is
/// the marker span (see [`UNSAMPLED_TARGET`]). Reads the current span without cloning it.
fn in_unsampled_request() -> bool {
    tracing::dispatcher::get_default(|dispatch| {
        let current = dispatch.current_span();
        current
            .metadata()
            .is_some_and(|metadata| metadata.target() == UNSAMPLED_TARGET)
    })
}

/// The span `make` opens, or none when the current trace is not kept: a request the sampler
/// leaves out then opens no span per token check, store operation and model call (their
/// metrics are recorded either way).
fn child(make: impl FnOnce() -> Span) -> Span {
    if in_unsampled_request() || unsampled(&Span::current()) {
        Span::none()
    } else {
        make()
    }
}

/// A model call's span, its usage, finish reason and error left to record. `output_type` is
/// `text` or `json`; `params` are the request's sampling settings, when it has any.
pub(crate) fn model_span(
    instruments: &ModelInstruments,
    output_type: &'static str,
    params: Option<&GenerationParams>,
) -> Span {
    let provider = provider_name(instruments.provider());
    let span = child(|| {
        tracing::debug_span!(
            target: SPAN_TARGET,
            "gen_ai",
            otel.name = format!("{OPERATION} {}", instruments.model),
            otel.kind = "client",
            otel.status_code = Empty,
            gen_ai.operation.name = OPERATION,
            gen_ai.provider.name = provider,
            gen_ai.system = provider,
            gen_ai.request.model = instruments.model.as_str(),
            gen_ai.output.type = output_type,
            gen_ai.request.max_tokens = Empty,
            gen_ai.request.temperature = Empty,
            gen_ai.request.top_p = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            gen_ai.response.finish_reasons = Empty,
            error.type = Empty,
        )
    });
    if let Some(params) = params.filter(|_| !span.is_disabled()) {
        record_params(&span, params);
    }
    span
}

fn record_params(span: &Span, params: &GenerationParams) {
    if let Some(max) = params.max_tokens {
        span.record("gen_ai.request.max_tokens", max);
    }
    if let Some(temperature) = params.temperature {
        span.record("gen_ai.request.temperature", f64::from(temperature));
    }
    if let Some(top_p) = params.top_p {
        span.record("gen_ai.request.top_p", f64::from(top_p));
    }
}

/// Records how a call ended well: why, and the tokens when the provider said.
pub(crate) fn record_end(span: &Span, stop_reason: &StopReason, usage: Option<&Usage>) {
    span.record("gen_ai.response.finish_reasons", stop_reason.as_str());
    if let Some(usage) = usage {
        span.record("gen_ai.usage.input_tokens", usage.input_tokens);
        span.record("gen_ai.usage.output_tokens", usage.output_tokens);
    }
}

/// A store operation's span (`store` is `db.system.name`: `sqlite`, `memory`, ...).
pub(crate) fn store_span(store: &'static str, operation: &'static str) -> Span {
    child(|| {
        tracing::debug_span!(
            target: SPAN_TARGET,
            "store",
            otel.name = format!("{operation} link.store"),
            otel.kind = "client",
            otel.status_code = Empty,
            db.system.name = store,
            db.operation.name = operation,
            error.type = Empty,
        )
    })
}

/// A token check's span.
pub(crate) fn auth_span() -> Span {
    child(|| {
        tracing::debug_span!(
            target: SPAN_TARGET,
            "authenticate",
            otel.status_code = Empty,
            error.type = Empty,
        )
    })
}

/// Marks a span as failed with `kind` (an error code, or `cancelled`).
pub(crate) fn record_failure(span: &Span, kind: &'static str) {
    span.record("error.type", kind);
    span.record("otel.status_code", "ERROR");
}

/// Marks a span as failed with `error`.
pub(crate) fn record_error(span: &Span, error: &Error) {
    record_failure(span, error.code());
}
