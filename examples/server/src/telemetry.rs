//! Metrics and traces: their settings, the subscriber that writes logs and exports spans, and
//! the engine built with every port in its `link-telemetry` decorator.
//!
//! Both are off by default, and then nothing is wrapped. `LINK_METRICS_LISTEN` serves
//! `GET /metrics` on an address of its own (see [`crate::metrics`]); `OTEL_EXPORTER_OTLP_ENDPOINT`
//! exports traces over OTLP (HTTP/protobuf) with the other standard `OTEL_*` variables.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;
use link::{ContentPolicy, Link, Models, Result, Secrets};
use link_telemetry::otlp::{OtlpError, OtlpTracing, RequestSampler};
use link_telemetry::{CONTENT_TARGET, Metrics, PriceTable, RetryCounter};
use prometheus_client::metrics::counter::Counter;
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::{Config, LogFormat};
use crate::log_writer::LogWriter;

/// The service name in traces when `OTEL_SERVICE_NAME` gives none.
const SERVICE: &str = "link-server";

/// The log filter when `RUST_LOG` is unset: `info`, with llama.cpp's chatty model loader at
/// `warn`.
const DEFAULT_LOG_FILTER: &str = "info,llama-cpp-2=warn,llama_cpp_2=warn";

/// Metrics settings (traces are configured by the standard `OTEL_*` variables).
#[derive(Debug, Clone, Default, Args)]
pub struct TelemetryConfig {
    /// Address to serve Prometheus metrics on (`GET /metrics`); off when unset. Keep it off
    /// public networks: the figures describe your traffic. Ignored in Lambda mode.
    #[arg(long, env = "LINK_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Prices for the estimated cost metric: MODEL=INPUT/OUTPUT in US dollars per million
    /// tokens, comma-separated (e.g. gpt-4o-mini=0.15/0.60,amazon.nova-micro-v1:0=0.035/0.14).
    #[arg(long, env = "LINK_PRICES")]
    pub prices: Option<PriceTable>,
}

/// What runs of metrics and tracing: the decorators' shared state when either is on, and the
/// OTLP pipeline when traces are exported.
#[derive(Debug, Default)]
pub struct Telemetry {
    ports: Option<link_telemetry::Telemetry>,
    otlp: Option<OtlpTracing>,
    /// The background log writer (not on Lambda, where lines are written as they come).
    log: Option<LogWriter>,
}

impl Telemetry {
    /// Nothing recorded, nothing wrapped (for hosts that set up their own).
    pub fn off() -> Self {
        Self::default()
    }

    /// Installs the process's `tracing` subscriber (logs to stderr as `RUST_LOG` and
    /// `LINK_LOG_FORMAT` say, written by a background thread except on Lambda, see
    /// [`LogWriter`]; spans to OTLP when configured, retries counted) and makes the metrics
    /// registry when metrics or traces are on. An OTLP configuration that cannot work comes
    /// back beside it, for the log that is now up to say so.
    pub fn init(config: &Config) -> (Self, Option<OtlpError>) {
        let (otlp, problem) = match OtlpTracing::from_env(SERVICE) {
            Ok(otlp) => (otlp, None),
            Err(error) => (None, Some(error)),
        };
        let on = config.telemetry.metrics_listen.is_some() || otlp.is_some();
        let ports = on.then(|| {
            let prices = config.telemetry.prices.clone().unwrap_or_default();
            let content = ContentPolicy::from(config.engine.audit_content);
            link_telemetry::Telemetry::new(Arc::new(Metrics::new(prices)), content)
        });
        let metrics = ports.as_ref().map(|ports| ports.metrics().as_ref());
        let full = metrics.map(Metrics::log_queue_full).unwrap_or_default();
        let log = background_log(config, full);
        install_subscriber(config.log_format, log.clone(), otlp.as_ref(), metrics);
        if let Some(otlp) = &otlp {
            let sampler = otlp.request_sampler();
            tracing::info!(%sampler, "exporting traces over OTLP (http/protobuf)");
        }
        (Self { ports, otlp, log }, problem)
    }

    /// The metrics registry, when metrics or traces are on.
    pub fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.ports.as_ref().map(|ports| ports.metrics())
    }

    /// The sampler that decides whether a request's trace is kept, when traces are exported.
    pub fn request_sampler(&self) -> Option<RequestSampler> {
        self.otlp.as_ref().map(OtlpTracing::request_sampler)
    }

    /// The engine `config` describes, its models, store and per-user limiter in their
    /// decorators when telemetry is on.
    pub async fn engine(&self, config: &link::Config, secrets: &Secrets) -> Result<Link> {
        let Some(ports) = &self.ports else {
            return config.build(secrets).await;
        };
        let models = Models::build(config, secrets).await?;
        let models = Models {
            extractor: ports.extractor(config.persona_provider.as_str(), models.extractor),
            chat: ports.chat_model(config.chat_provider.as_str(), models.chat),
            summariser: (models.summariser)
                .map(|model| ports.chat_model(config.chat_provider.as_str(), model)),
            ..models
        };
        let (store, keys) = config.stores().await?;
        let store = ports.store(config.store_backend.as_str(), store);
        let limiter = ports.rate_limiter("user", config.rate_limiter().await?);
        Ok(config
            .build_parts(models, store, limiter)?
            .with_api_keys(keys))
    }

    /// `authenticator` in its decorator when telemetry is on.
    pub fn authenticator(
        &self,
        authenticator: Arc<dyn link::Authenticator>,
    ) -> Arc<dyn link::Authenticator> {
        match &self.ports {
            Some(ports) => ports.authenticator(authenticator),
            None => authenticator,
        }
    }

    /// The per-IP `limiter` in its decorator when telemetry is on.
    pub fn per_ip(&self, limiter: Arc<dyn link::RateLimiter>) -> Arc<dyn link::RateLimiter> {
        match &self.ports {
            Some(ports) => ports.rate_limiter("ip", limiter),
            None => limiter,
        }
    }

    /// Sends the spans still queued for export and writes the log lines still queued. Blocks
    /// for at most a few seconds.
    pub fn shutdown(&self) {
        if let Some(otlp) = &self.otlp {
            otlp.shutdown();
        }
        self.flush_logs();
    }

    /// Returns once the log lines made so far are written (at most five seconds).
    pub fn flush_logs(&self) {
        if let Some(log) = &self.log {
            log.flush();
        }
    }
}

/// The background log writer (waits for room counted in `full`), except on Lambda (a frozen
/// process would hold its lines) or when the thread cannot be started (then lines are
/// written as they come).
fn background_log(config: &Config, full: Counter) -> Option<LogWriter> {
    #[cfg(feature = "lambda")]
    if config.lambda {
        return None;
    }
    let _ = config;
    LogWriter::stderr(full).ok()
}

/// Logs to stderr (through `background` when given), filtered by `RUST_LOG`, as JSON lines
/// when `LINK_LOG_FORMAT=json` (for CloudWatch and other collectors), never with prompt text
/// from the trace events; spans to `otlp` with its own filter; retries counted into `metrics`.
fn install_subscriber(
    format: LogFormat,
    background: Option<LogWriter>,
    otlp: Option<&OtlpTracing>,
    metrics: Option<&Metrics>,
) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER))
        .and(filter_fn(|metadata| metadata.target() != CONTENT_TARGET));
    let writer = match background {
        Some(out) => BoxMakeWriter::new(out),
        None => BoxMakeWriter::new(io::stderr),
    };
    let log = tracing_subscriber::fmt::layer().with_writer(writer);
    let log: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Json => log.json().with_filter(filter).boxed(),
        LogFormat::Text => log.with_filter(filter).boxed(),
    };
    let mut layers = vec![log];
    if let Some(otlp) = otlp {
        layers.push(otlp.layer().boxed());
    }
    if let Some(metrics) = metrics {
        layers.push(RetryCounter::new(metrics).layer().boxed());
    }
    tracing_subscriber::registry().with(layers).init();
}
