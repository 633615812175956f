//! [`RetryCounter`]: counts the retries a provider adapter makes inside one call, which no
//! decorator can see (the port returns once, after the last try). The OpenAI adapter logs a
//! warning from its `retry` module before each retry; this layer counts those events.
//! Bedrock's SDK retries silently and is not counted.

use prometheus_client::metrics::counter::Counter;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::Metrics;
use crate::labels::ProviderLabels;

/// The module whose warnings announce a retry, with the provider it retries.
const RETRY_EVENTS: [(&str, &str); 1] = [("link_openai::retry", "openai")];

/// A `tracing` layer counting retries into `link_model_retries_total` by provider. It sees
/// only the retry warnings (its own filter), whatever the log filter lets through.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use link_telemetry::{Metrics, PriceTable, RetryCounter};
///
/// let metrics = Metrics::new(PriceTable::default());
/// let subscriber = tracing_subscriber::registry().with(RetryCounter::new(&metrics).layer());
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::warn!(target: "link_openai::retry", retry = 1, "openai request failed; retrying");
/// });
/// assert!(metrics.render().contains(r#"link_model_retries_total{provider="openai"} 1"#));
/// ```
#[derive(Debug, Clone)]
pub struct RetryCounter {
    counters: Vec<(&'static str, Counter)>,
}

impl RetryCounter {
    /// Counts into `metrics`.
    pub fn new(metrics: &Metrics) -> Self {
        let counters = RETRY_EVENTS
            .iter()
            .map(|(target, provider)| {
                let counter = metrics
                    .retries
                    .get_or_create_owned(&ProviderLabels { provider });
                (*target, counter)
            })
            .collect();
        Self { counters }
    }

    /// The counter as a layer with its own filter, to add to a subscriber beside the others.
    pub fn layer<S>(self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        self.with_filter(filter_fn(is_retry_event))
    }
}

fn is_retry_event(metadata: &Metadata<'_>) -> bool {
    metadata.is_event()
        && *metadata.level() == Level::WARN
        && RETRY_EVENTS
            .iter()
            .any(|(target, _)| metadata.target() == *target)
}

impl<S: Subscriber> Layer<S> for RetryCounter {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let target = event.metadata().target();
        if let Some((_, counter)) = self.counters.iter().find(|(t, _)| *t == target) {
            counter.inc();
        }
    }
}
