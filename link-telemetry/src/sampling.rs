//! Head sampling of requests: whether a request's trace is kept is decided once, before its
//! server span opens, by the sampler the `OTEL_TRACES_SAMPLER` variables configure.
//!
//! A kept request runs in its server span as before. A request left out runs in a marker
//! span instead ([`RequestSampler::unsampled_span`]) that no exporter takes:
//! `tracing-opentelemetry` never builds, enters or closes anything for it, and the decorators
//! open no token, store or model span inside it (their metrics are recorded either way).
//! Left to the OpenTelemetry SDK, the decision would come only once the span was built, and
//! every poll of the request's future would still enter and leave a span that is then thrown
//! away: about 4% of a chat turn's instructions, against about 1% for the marker
//! (BENCHMARKS.md).
//!
//! The SDK then keeps every server span that has no parent (the request sampler decided it),
//! keeps a span with a parent in this process if its parent is kept, and asks the configured
//! sampler about any other span.

use opentelemetry::trace::TraceState;
use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    Config, IdGenerator, RandomIdGenerator, SamplingDecision, SamplingResult, ShouldSample,
};
use tracing::Span;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{Filtered, Targets};

use crate::UNSAMPLED_TARGET;
use crate::otlp::var;

/// Decides, once per request, whether its trace is kept.
///
/// ```no_run
/// # fn main() -> Result<(), link_telemetry::otlp::OtlpError> {
/// use link_telemetry::otlp::{OtlpTracing, RequestSampler};
///
/// if let Some(otlp) = OtlpTracing::from_env("my-service")? {
///     let sampler = otlp.request_sampler();
///     // For each request:
///     let span = if sampler.keeps() {
///         tracing::debug_span!(target: link_telemetry::SPAN_TARGET, "GET /things", otel.kind = "server")
///     } else {
///         RequestSampler::unsampled_span()
///     };
///     // run the request inside `span`
/// #   let _ = span;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RequestSampler {
    sampler: Box<dyn ShouldSample>,
}

impl RequestSampler {
    /// The sampler the `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` variables name
    /// (the SDK's default, `parentbased_always_on`, when they name none). A sampler the SDK
    /// does not have, or a ratio that is not a number from 0 to 1, is an error: the SDK would
    /// quietly trace every request instead.
    pub(crate) fn from_env() -> Result<Self, String> {
        check(
            var("OTEL_TRACES_SAMPLER").as_deref(),
            var("OTEL_TRACES_SAMPLER_ARG").as_deref(),
        )?;
        Ok(Self::with(Config::default().sampler))
    }

    fn with(sampler: Box<dyn ShouldSample>) -> Self {
        Self { sampler }
    }

    /// What the SDK should sample with beside this request sampler.
    pub(crate) fn sdk_sampler(&self) -> HeadSampled {
        HeadSampled {
            inner: self.sampler.clone(),
        }
    }

    /// Whether the trace of a new request is kept. A request comes without a trace context
    /// (Link does not take one from its callers), so this is the configured sampler's
    /// decision for a root span, made on a fresh random trace id.
    pub fn keeps(&self) -> bool {
        let trace_id = RandomIdGenerator::default().new_trace_id();
        let result =
            (self.sampler).should_sample(None, trace_id, "request", &SpanKind::Server, &[], &[]);
        result.decision == SamplingDecision::RecordAndSample
    }

    /// The marker span a request whose trace is not kept runs in, in place of its server
    /// span: nothing exports it, and the decorators open no span inside it.
    pub fn unsampled_span() -> Span {
        tracing::debug_span!(target: UNSAMPLED_TARGET, "unsampled")
    }
}

/// The samplers of the OpenTelemetry SDK's `OTEL_TRACES_SAMPLER`, and whether each takes a
/// ratio.
const SAMPLERS: [(&str, bool); 6] = [
    ("always_on", false),
    ("always_off", false),
    ("traceidratio", true),
    ("parentbased_always_on", false),
    ("parentbased_always_off", false),
    ("parentbased_traceidratio", true),
];

/// Whether `sampler` and its `arg` name a sampler this build has, with a usable ratio.
fn check(sampler: Option<&str>, arg: Option<&str>) -> Result<(), String> {
    let Some(sampler) = sampler else {
        return Ok(());
    };
    let names = || SAMPLERS.map(|(name, _)| name).join(", ");
    let Some((_, ratio)) = SAMPLERS.iter().find(|(name, _)| *name == sampler) else {
        return Err(format!(
            "OTEL_TRACES_SAMPLER={sampler} is not a sampler this build has (one of: {})",
            names()
        ));
    };
    match arg {
        Some(arg) if *ratio => match arg.trim().parse::<f64>() {
            Ok(value) if (0.0..=1.0).contains(&value) => Ok(()),
            _ => Err(format!(
                "OTEL_TRACES_SAMPLER_ARG={arg} is not a ratio from 0 to 1 (0.01 keeps one \
                 request in 100)"
            )),
        },
        _ => Ok(()),
    }
}

/// The configured sampler, as the SDK names it (`TraceIdRatioBased(0.01)`, ...), for a
/// start-up line.
impl std::fmt::Display for RequestSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.sampler)
    }
}

/// The SDK's sampler: a server span without a parent is kept (the [`RequestSampler`] decided
/// it before opening it), a span with a parent in this process follows its parent (so a kept
/// request is kept whole, even under `traceidratio`), and any other span goes to the
/// configured sampler.
#[derive(Debug, Clone)]
pub(crate) struct HeadSampled {
    inner: Box<dyn ShouldSample>,
}

impl ShouldSample for HeadSampled {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        use opentelemetry::trace::TraceContextExt;
        let decided = |keep: bool| SamplingResult {
            decision: match keep {
                true => SamplingDecision::RecordAndSample,
                false => SamplingDecision::Drop,
            },
            attributes: Vec::new(),
            trace_state: TraceState::default(),
        };
        let parent = parent_context.map(|cx| cx.span().span_context().clone());
        match parent.filter(|parent| parent.is_valid()) {
            None if *span_kind == SpanKind::Server => decided(true),
            Some(parent) if !parent.is_remote() => decided(parent.is_sampled()),
            _ => (self.inner).should_sample(
                parent_context,
                trace_id,
                name,
                span_kind,
                attributes,
                links,
            ),
        }
    }
}

/// A layer that does nothing but keep the marker spans open, so that the code they run can
/// tell it is in a request whose trace is not kept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Marks;

impl<S: tracing::Subscriber> Layer<S> for Marks {}

/// [`Marks`], taking the marker spans only.
pub(crate) fn marks<S: tracing::Subscriber>() -> Filtered<Marks, Targets, S> {
    Marks.with_filter(Targets::new().with_target(UNSAMPLED_TARGET, LevelFilter::DEBUG))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags};
    use opentelemetry_sdk::trace::Sampler;

    fn decision(sampler: &HeadSampled, parent: Option<&Context>, kind: SpanKind) -> bool {
        let id = TraceId::from(7);
        let result = sampler.should_sample(parent, id, "span", &kind, &[], &[]);
        result.decision == SamplingDecision::RecordAndSample
    }

    #[test]
    fn a_sampler_the_sdk_has_not_got_or_a_ratio_out_of_range_is_refused() {
        assert!(check(None, None).is_ok());
        assert!(
            check(None, Some("whatever")).is_ok(),
            "no sampler, no ratio read"
        );
        assert!(check(Some("traceidratio"), Some("0.01")).is_ok());
        assert!(check(Some("parentbased_traceidratio"), Some(" 1 ")).is_ok());
        assert!(
            check(Some("traceidratio"), None).is_ok(),
            "the SDK's default: 1"
        );
        assert!(
            check(Some("always_off"), Some("x")).is_ok(),
            "no ratio to read"
        );
        let bad_name = check(Some("ratio"), None).unwrap_err();
        assert!(bad_name.contains("OTEL_TRACES_SAMPLER=ratio"), "{bad_name}");
        assert!(bad_name.contains("parentbased_traceidratio"), "{bad_name}");
        for arg in ["1.5", "-0.1", "one", "NaN"] {
            let error = check(Some("traceidratio"), Some(arg)).unwrap_err();
            assert!(
                error.contains(&format!("OTEL_TRACES_SAMPLER_ARG={arg}")),
                "{error}"
            );
        }
    }

    #[test]
    fn the_request_sampler_asks_the_configured_sampler_about_a_root() {
        assert!(RequestSampler::with(Box::new(Sampler::AlwaysOn)).keeps());
        assert!(!RequestSampler::with(Box::new(Sampler::AlwaysOff)).keeps());
        let half = RequestSampler::with(Box::new(Sampler::TraceIdRatioBased(0.5)));
        let kept = (0..400).filter(|_| half.keeps()).count();
        assert!((100..300).contains(&kept), "{kept} of 400 kept at one half");
    }

    #[test]
    fn the_sdk_keeps_a_server_root_and_asks_the_sampler_about_the_rest() {
        let off = RequestSampler::with(Box::new(Sampler::AlwaysOff)).sdk_sampler();
        assert!(decision(&off, None, SpanKind::Server));
        assert!(decision(&off, Some(&Context::new()), SpanKind::Server));
        assert!(!decision(&off, None, SpanKind::Client));
        assert!(!decision(&off, None, SpanKind::Internal));
        let parent = |flags: TraceFlags, remote: bool| {
            let ids = SpanContext::new(
                TraceId::from(7),
                SpanId::from(9),
                flags,
                remote,
                TraceState::default(),
            );
            Context::new().with_remote_span_context(ids)
        };
        let kept = parent(TraceFlags::SAMPLED, false);
        let dropped = parent(TraceFlags::default(), false);
        assert!(
            decision(&off, Some(&kept), SpanKind::Client),
            "a kept request is kept whole"
        );
        assert!(!decision(&off, Some(&dropped), SpanKind::Client));
        let on = RequestSampler::with(Box::new(Sampler::AlwaysOn)).sdk_sampler();
        assert!(!decision(&on, Some(&dropped), SpanKind::Internal));
        let remote = parent(TraceFlags::SAMPLED, true);
        assert!(
            !decision(&off, Some(&remote), SpanKind::Server),
            "a span with a remote parent is not one the request sampler decided"
        );
        assert!(decision(&on, None, SpanKind::Client));
    }
}
