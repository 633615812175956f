//! Traces over OTLP (HTTP/protobuf), configured as every OpenTelemetry SDK is: by
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`),
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_TRACES_SAMPLER(_ARG)` and `OTEL_BSP_*`. Off when no endpoint is set, or with
//! `OTEL_SDK_DISABLED=true`.
//!
//! The exporter runs on the SDK's own thread with a blocking HTTP client, so it needs no
//! async runtime and never delays a request: spans are queued (2048 at most, then dropped)
//! and sent in batches.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use crate::sampling;
pub use crate::sampling::RequestSampler;
use crate::{CONTENT_TARGET, SPAN_TARGET};

/// The variables that name an endpoint; traces are exported when one is set.
const ENDPOINTS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];
/// The variables that may ask for a protocol; only HTTP/protobuf is built in.
const PROTOCOLS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
];

/// The OpenTelemetry variable `name`, when it is set to something other than blanks.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Why OTLP export could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("OpenTelemetry export: {0}")]
pub struct OtlpError(String);

/// A running OTLP trace pipeline: a layer to add to the subscriber, and a shutdown that
/// sends what is still queued.
#[derive(Debug)]
pub struct OtlpTracing {
    provider: SdkTracerProvider,
    sampler: RequestSampler,
}

impl OtlpTracing {
    /// The pipeline the environment describes, or `None` when it names no endpoint (or
    /// disables the SDK). `service` is the service name when neither `OTEL_SERVICE_NAME` nor
    /// `OTEL_RESOURCE_ATTRIBUTES` gives one.
    pub fn from_env(service: &str) -> Result<Option<Self>, OtlpError> {
        let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if disabled || ENDPOINTS.iter().all(|name| var(name).is_none()) {
            return Ok(None);
        }
        if let Some((name, protocol)) = PROTOCOLS
            .iter()
            .find_map(|name| var(name).map(|v| (name, v)))
            .filter(|(_, v)| v != "http/protobuf")
        {
            return Err(OtlpError(format!(
                "{name}={protocol} is not supported: this build exports http/protobuf only"
            )));
        }
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .build()
            .map_err(|e| OtlpError(e.to_string()))?;
        let sampler = RequestSampler::from_env().map_err(OtlpError)?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(sampler.sdk_sampler())
            .with_resource(resource(service))
            .build();
        Ok(Some(Self { provider, sampler }))
    }

    /// The layer that turns `tracing` spans into OpenTelemetry spans. It takes this crate's
    /// spans (a server's request span too, when it opens it under [`SPAN_TARGET`]) and no
    /// other: a log span (such as a server's `request` span, which only names the request id
    /// for the log lines) is left out, and a span opened inside it has the nearest exported
    /// span as its parent. It takes Link's events at INFO and above (this crate's text events
    /// at DEBUG), other crates' at WARN, and leaves out the `AUDIT_LOG` lines (the request id
    /// links a trace to its audit line instead).
    ///
    /// OpenTelemetry's own context is not made current while a span is entered: nothing in
    /// Link reads it, and attaching it on every poll of a request's future is work for nobody
    /// (parents come from `tracing`'s span tree).
    ///
    /// It also keeps open the marker spans of requests whose trace is not kept (see
    /// [`RequestSampler`]), which nothing exports.
    pub fn layer<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync + 'static,
    {
        let tracer = self.provider.tracer("link");
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false)
            .with_filter(ExportFilter::new())
            .and_then(sampling::marks())
    }

    /// The sampler that decides, before a request's span opens, whether its trace is kept
    /// (see [`RequestSampler`]): give it to the code that opens a request's server span.
    pub fn request_sampler(&self) -> RequestSampler {
        self.sampler.clone()
    }

    /// Sends the spans still queued and stops the exporter. Blocks until then (a few seconds
    /// at most): call it from a blocking context.
    pub fn shutdown(&self) {
        if let Err(error) = self.provider.shutdown() {
            tracing::warn!(%error, "OpenTelemetry export did not shut down cleanly");
        }
    }
}

/// What the OTLP layer takes: spans under [`SPAN_TARGET`] only, and events by target and
/// level (see [`OtlpTracing::layer`]). Decided once per callsite.
#[derive(Debug, Clone)]
struct ExportFilter {
    events: Targets,
}

impl ExportFilter {
    fn new() -> Self {
        let events = Targets::new()
            .with_default(Level::WARN)
            .with_target("link", Level::INFO)
            .with_target("link::audit", LevelFilter::OFF)
            .with_target(SPAN_TARGET, Level::DEBUG)
            .with_target(CONTENT_TARGET, Level::DEBUG);
        Self { events }
    }

    fn takes(&self, metadata: &Metadata<'_>) -> bool {
        if metadata.is_span() {
            metadata.target() == SPAN_TARGET
        } else {
            self.events
                .would_enable(metadata.target(), metadata.level())
        }
    }
}

impl<S> Filter<S> for ExportFilter {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.takes(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.takes(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::DEBUG)
    }
}

/// The SDK's resource (which reads `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`), with
/// `service` as the name when they give none.
fn resource(service: &str) -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    if named {
        detected
    } else {
        Resource::builder()
            .with_service_name(service.to_owned())
            .build()
    }
}
