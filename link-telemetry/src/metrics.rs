//! [`Metrics`]: the registry of every metric Link records, and its Prometheus text.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::PriceTable;
use crate::labels::{
    AuthLabels, GuardrailLabels, HttpLabels, LimitLabels, ModelLabels, OutcomeLabels,
    ProviderLabels, RouteLabels, StoreLabels, TokenLabels,
};

/// Counters by label set.
pub(crate) type Counters<L> = Family<L, Counter>;
/// Histograms by label set, each made with its metric's buckets.
pub(crate) type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric's name as it appears in the Prometheus text (counters with their `_total`),
/// for documentation and tests.
pub const METRIC_NAMES: [&str; 18] = [
    "link_http_requests_total",
    "link_http_request_duration_seconds",
    "link_model_requests_total",
    "link_model_request_duration_seconds",
    "link_model_requests_in_flight",
    "link_model_time_to_first_token_seconds",
    "link_model_chunk_gap_seconds",
    "link_model_tokens_total",
    "link_model_output_tokens_per_second",
    "link_model_cost_usd_total",
    "link_model_retries_total",
    "link_guardrail_interventions_total",
    "link_rate_limit_decisions_total",
    "link_store_operation_duration_seconds",
    "link_auth_checks_total",
    "link_log_queue_full_total",
    "link_build_info",
    "link_prices_configured",
];

/// Every metric Link records, in one registry, with the price table that turns tokens into
/// cost. Share one per process (`Arc<Metrics>`); recording is lock-free once a label set has
/// been seen.
///
/// ```
/// use std::time::Duration;
/// use link_telemetry::{Metrics, PriceTable};
///
/// let metrics = Metrics::new(PriceTable::default());
/// metrics.http_request("GET", Some("/healthz"), 200, Duration::from_millis(2));
/// let text = metrics.render();
/// assert!(text.contains(r#"link_http_requests_total{method="GET",route="/healthz",status="200"} 1"#));
/// ```
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub(crate) prices: PriceTable,
    http_requests: Counters<HttpLabels>,
    http_duration: Histograms<RouteLabels>,
    pub(crate) model_requests: Counters<OutcomeLabels>,
    pub(crate) model_duration: Histograms<ModelLabels>,
    pub(crate) model_in_flight: Family<ModelLabels, Gauge>,
    pub(crate) time_to_first_token: Histograms<ModelLabels>,
    pub(crate) chunk_gap: Histograms<ModelLabels>,
    pub(crate) tokens: Counters<TokenLabels>,
    pub(crate) tokens_per_second: Histograms<ModelLabels>,
    pub(crate) cost: Family<ModelLabels, Counter<f64, AtomicU64>>,
    pub(crate) retries: Counters<ProviderLabels>,
    pub(crate) guardrail: Counters<GuardrailLabels>,
    pub(crate) rate_limit: Counters<LimitLabels>,
    pub(crate) store_duration: Histograms<StoreLabels>,
    pub(crate) auth: Counters<AuthLabels>,
    log_queue_full: Counter,
}

/// Whole requests: from a cheap health check to a slow model call.
const HTTP_BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    120.0,
];
/// Model calls: a fast mock to a long local generation.
const MODEL_BUCKETS: [f64; 14] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
];
/// Time to first token.
const FIRST_TOKEN_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Gaps between chunks of a stream.
const GAP_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// Generation speed.
const SPEED_BUCKETS: [f64; 11] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 5000.0,
];
/// Store operations: an in-memory read to a slow remote write.
const STORE_BUCKETS: [f64; 13] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}
fn model_histogram() -> Histogram {
    Histogram::new(MODEL_BUCKETS)
}
fn first_token_histogram() -> Histogram {
    Histogram::new(FIRST_TOKEN_BUCKETS)
}
fn gap_histogram() -> Histogram {
    Histogram::new(GAP_BUCKETS)
}
fn speed_histogram() -> Histogram {
    Histogram::new(SPEED_BUCKETS)
}
fn store_histogram() -> Histogram {
    Histogram::new(STORE_BUCKETS)
}

/// Registers families under the `link_` prefix, each with its help text.
struct Registrar(Registry);

impl Registrar {
    fn add<M>(&mut self, name: &str, help: &str, metric: M) -> M
    where
        M: prometheus_client::registry::Metric + Clone,
    {
        self.0.register(name, help, metric.clone());
        metric
    }

    fn histograms<L>(&mut self, name: &str, help: &str, make: fn() -> Histogram) -> Histograms<L>
    where
        L: prometheus_client::encoding::EncodeLabelSet
            + Clone
            + std::hash::Hash
            + Eq
            + std::fmt::Debug
            + Send
            + Sync
            + 'static,
    {
        self.add(name, help, Family::new_with_constructor(make))
    }
}

impl Metrics {
    /// Every metric, registered and at zero; `prices` turns tokens into
    /// `link_model_cost_usd_total` for the models it names.
    pub fn new(prices: PriceTable) -> Self {
        let mut r = Registrar(Registry::with_prefix("link"));
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        r.add(
            "build_info",
            "Always 1; the link-telemetry version as a label",
            build,
        );
        let priced = Gauge::<i64>::default();
        priced.set(i64::try_from(prices.len()).unwrap_or(i64::MAX));
        r.add(
            "prices_configured",
            "Models with a price in the price table",
            priced,
        );
        Self {
            http_requests: r.add("http_requests", "HTTP requests answered, by method, route template and status", Family::default()),
            http_duration: r.histograms("http_request_duration_seconds", "Time until the response started (for a stream: its headers), by method and route template", http_histogram),
            model_requests: r.add("model_requests", "Model calls by operation, provider, model and outcome (ok, cancelled, incomplete, or Link's error code)", Family::default()),
            model_duration: r.histograms("model_request_duration_seconds", "Model calls from start to the last event", model_histogram),
            model_in_flight: r.add("model_requests_in_flight", "Model calls waiting for or running on the model now (for the local model: its queue and its workers)", Family::default()),
            time_to_first_token: r.histograms("model_time_to_first_token_seconds", "Streamed replies: time from the call to the first text", first_token_histogram),
            chunk_gap: r.histograms("model_chunk_gap_seconds", "Streamed replies: time between successive pieces of text", gap_histogram),
            tokens: r.add("model_tokens", "Tokens the provider reported, by token_type (input, output)", Family::default()),
            tokens_per_second: r.histograms("model_output_tokens_per_second", "Generation speed of a call: output tokens over the time after the first token (the whole call when not streamed)", speed_histogram),
            cost: r.add("model_cost_usd", "Estimated cost in US dollars, from the reported tokens and the price table (LINK_PRICES)", Family::default()),
            retries: r.add("model_retries", "Requests to a provider tried again after a retryable failure", Family::default()),
            guardrail: r.add("guardrail_interventions", "Replies a guardrail or content filter changed or stopped, by kind", Family::default()),
            rate_limit: r.add("rate_limit_decisions", "Rate limiter decisions by scope (user, ip) and decision (allowed, denied)", Family::default()),
            store_duration: r.histograms("store_operation_duration_seconds", "Conversation store operations by store, operation and outcome", store_histogram),
            auth: r.add("auth_checks", "Bearer token checks by outcome (ok, or the error code)", Family::default()),
            log_queue_full: r.add("log_queue_full", "Log lines (audit lines among them) that waited for room in the background writer's full queue; none are dropped", Counter::default()),
            registry: r.0,
            prices,
        }
    }

    /// The counter of log lines that waited for room in a full log queue (the host's log
    /// writer increments it; `link_log_queue_full_total`).
    pub fn log_queue_full(&self) -> Counter {
        self.log_queue_full.clone()
    }

    /// Counts one HTTP request. `route` is the route template the router matched
    /// (`/v1/conversations/{id}`), never the request's path; `None` (no route matched) is
    /// recorded as `unmatched`. Methods outside the standard ones are recorded as `other`.
    pub fn http_request(&self, method: &str, route: Option<&str>, status: u16, elapsed: Duration) {
        let method = standard_method(method);
        let route = route.unwrap_or("unmatched").to_owned();
        self.http_duration
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.http_requests
            .get_or_create(&HttpLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an encoder error would only truncate the text.
        if let Err(error) = prometheus_text::encode(&mut text, &self.registry) {
            tracing::warn!(%error, "metrics could not be rendered whole");
        }
        text
    }

    /// The `Content-Type` of [`render`](Self::render)'s text.
    pub const CONTENT_TYPE: &'static str = prometheus_text::CONTENT_TYPE;
}

/// The version label of `link_build_info`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// The method as a static label value: one of the standard methods, or `other`.
fn standard_method(method: &str) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    STANDARD
        .into_iter()
        .find(|m| *m == method)
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_template_and_odd_methods_are_other() {
        let metrics = Metrics::new(PriceTable::default());
        let route = Some("/v1/conversations/{id}");
        metrics.http_request("GET", route, 200, Duration::from_millis(3));
        metrics.http_request("GET", route, 200, Duration::from_millis(4));
        metrics.http_request("BREW", None, 404, Duration::from_millis(1));
        let text = metrics.render();
        assert!(text.contains(
            r#"link_http_requests_total{method="GET",route="/v1/conversations/{id}",status="200"} 2"#
        ));
        assert!(text.contains(
            r#"link_http_requests_total{method="other",route="unmatched",status="404"} 1"#
        ));
        assert!(text.contains(
            r#"link_http_request_duration_seconds_count{method="GET",route="/v1/conversations/{id}"} 2"#
        ));
    }
}
