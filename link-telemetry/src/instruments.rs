//! The metric handles of one model behind one port, looked up once when the decorator is made
//! so that a call records without building label sets (outcomes other than `ok` and guardrail
//! kinds are rare, and looked up when they happen).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

use crate::labels::{GuardrailLabels, ModelLabels, OutcomeLabels, TokenLabels};
use crate::{Metrics, Price};

/// Handles for one (operation, provider, model).
#[derive(Debug)]
pub(crate) struct ModelInstruments {
    metrics: Arc<Metrics>,
    labels: ModelLabels,
    /// The span name and `gen_ai.request.model`.
    pub(crate) model: Arc<String>,
    ok: Counter,
    pub(crate) duration: Histogram,
    pub(crate) in_flight: Gauge,
    pub(crate) time_to_first_token: Histogram,
    pub(crate) chunk_gap: Histogram,
    input_tokens: Counter,
    output_tokens: Counter,
    pub(crate) tokens_per_second: Histogram,
    /// The model's price and its cost counter, when the price table names the model.
    cost: Option<(Price, Counter<f64, AtomicU64>)>,
}

impl ModelInstruments {
    pub(crate) fn new(
        metrics: Arc<Metrics>,
        operation: &'static str,
        provider: &'static str,
        model: String,
    ) -> Self {
        let model = Arc::new(model);
        let labels = ModelLabels {
            operation,
            provider,
            model: model.clone(),
        };
        let tokens = |token_type| {
            metrics.tokens.get_or_create_owned(&TokenLabels {
                operation,
                provider,
                model: model.clone(),
                token_type,
            })
        };
        let (input_tokens, output_tokens) = (tokens("input"), tokens("output"));
        let cost = (metrics.prices.get(&model))
            .map(|price| (price, metrics.cost.get_or_create_owned(&labels)));
        Self {
            ok: outcome_counter(&metrics, &labels, "ok"),
            duration: metrics.model_duration.get_or_create_owned(&labels),
            in_flight: metrics.model_in_flight.get_or_create_owned(&labels),
            time_to_first_token: metrics.time_to_first_token.get_or_create_owned(&labels),
            chunk_gap: metrics.chunk_gap.get_or_create_owned(&labels),
            tokens_per_second: metrics.tokens_per_second.get_or_create_owned(&labels),
            input_tokens,
            output_tokens,
            cost,
            model,
            labels,
            metrics,
        }
    }

    /// The provider, as in the metrics' `provider` label.
    pub(crate) fn provider(&self) -> &'static str {
        self.labels.provider
    }

    /// Counts a call that ended with `outcome`.
    pub(crate) fn ended(&self, outcome: &'static str) {
        if outcome == "ok" {
            self.ok.inc();
        } else {
            outcome_counter(&self.metrics, &self.labels, outcome).inc();
        }
    }

    /// Counts the tokens a provider reported and what they cost.
    pub(crate) fn tokens(&self, input: u64, output: u64) {
        self.input_tokens.inc_by(input);
        self.output_tokens.inc_by(output);
        if let Some((price, cost)) = &self.cost {
            cost.inc_by(price.cost(input, output));
        }
    }

    /// Counts one guardrail intervention of `kind`.
    pub(crate) fn guardrail(&self, kind: &'static str) {
        let labels = GuardrailLabels {
            provider: self.labels.provider,
            model: self.model.clone(),
            kind,
        };
        self.metrics.guardrail.get_or_create(&labels).inc();
    }
}

fn outcome_counter(metrics: &Metrics, labels: &ModelLabels, outcome: &'static str) -> Counter {
    metrics.model_requests.get_or_create_owned(&OutcomeLabels {
        operation: labels.operation,
        provider: labels.provider,
        model: labels.model.clone(),
        outcome,
    })
}
