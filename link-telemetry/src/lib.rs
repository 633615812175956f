//! # link-telemetry
//!
//! Metrics and traces for Link, as decorators of its ports in the object_store manner: each
//! `Instrumented*` type wraps an implementation of a port, implements the same port, and
//! records what passes through it before handing it on unchanged.
//!
//! | decorator | metrics | span |
//! |---|---|---|
//! | [`InstrumentedChatModel`] | calls by outcome, duration, in flight, time to first token, chunk gaps, tokens in/out, tokens/s, cost, guardrail interventions | `chat {model}` with the OpenTelemetry GenAI attributes |
//! | [`InstrumentedExtractor`] | calls by outcome, duration, in flight | `chat {model}`, `gen_ai.output.type = json` |
//! | [`InstrumentedStore`] | latency by operation and outcome | `{operation} link.store` |
//! | [`InstrumentedLimiter`] | decisions (allowed, denied) by scope | none (nothing to await) |
//! | [`InstrumentedAuthenticator`] | checks by outcome | `authenticate` |
//!
//! [`Telemetry`] holds what the decorators share (the [`Metrics`] registry and the audit
//! [`ContentPolicy`](link_core::ContentPolicy)) and wraps ports in one call each;
//! [`Metrics::render`] gives the Prometheus text for a `/metrics` route, and
//! [`RetryCounter`] counts the OpenAI adapter's retries from its log events. With the `otlp`
//! feature, [`otlp::OtlpTracing`] exports the spans over OTLP (HTTP/protobuf) as the
//! standard `OTEL_*` variables say, and its [`otlp::RequestSampler`] decides once per request,
//! before the request's span opens, whether its trace is kept: a request left out then costs
//! next to nothing (no span of this crate opens inside it).
//!
//! ```
//! use std::sync::Arc;
//! use link_core::{ChatModel, ContentPolicy, MemoryStore};
//! use link_core::testing::ScriptedChatModel;
//! use link_telemetry::{Metrics, PriceTable, Telemetry};
//!
//! let telemetry = Telemetry::new(Arc::new(Metrics::new(PriceTable::default())), ContentPolicy::Hash);
//! let chat: Arc<dyn ChatModel> = telemetry.chat_model("openai", Arc::new(ScriptedChatModel::replying(["Hi."])));
//! let store = telemetry.store("memory", Arc::new(MemoryStore::default()));
//! assert!(telemetry.metrics().render().contains("link_model_requests_total"));
//! # let _ = (chat, store);
//! ```
//!
//! ## Why a crate of its own
//!
//! Telemetry is a cross-cutting concern that an embedder opts into, and its dependencies
//! (prometheus-client; with `otlp`, the OpenTelemetry SDK, its exporter and an HTTP client)
//! are heavier than anything `link-core` carries. A crate beside the providers keeps
//! `link-core` and the `link` facade free of them (the design's rule: one crate per heavy
//! dependency), works with any implementation of the ports (the decorators depend on the
//! traits only), and keeps every metric name, label and span attribute in this one place.
//!
//! ## Bounded labels
//!
//! Every label value comes from a closed set or from configuration: HTTP method, route
//! template and status; provider name and configured model id; Link's error codes; operation
//! names. No label holds a user, a token, a conversation id or any text, so the number of
//! series cannot grow with traffic.

mod auth;
mod call;
mod chat;
mod content;
mod extractor;
mod instruments;
mod labels;
mod limiter;
mod metrics;
#[cfg(feature = "otlp")]
pub mod otlp;
mod prices;
mod retry;
#[cfg(feature = "otlp")]
mod sampling;
mod spans;
mod store;
mod stream;
mod telemetry;

pub use auth::InstrumentedAuthenticator;
pub use chat::InstrumentedChatModel;
pub use extractor::InstrumentedExtractor;
pub use limiter::InstrumentedLimiter;
pub use metrics::{METRIC_NAMES, Metrics};
pub use prices::{Price, PriceTable, PricesError};
pub use retry::RetryCounter;
pub use store::InstrumentedStore;
pub use telemetry::Telemetry;

/// The target of every span this crate opens, all at DEBUG level, so that a subscriber can
/// send them to an exporter without also sending them to the log. A server's own request
/// span may use it too, to travel with them.
pub const SPAN_TARGET: &str = "link_telemetry";

/// The target of the marker span a request whose trace is not kept runs in (see
/// `otlp::RequestSampler`): no exporter takes it, and no span of this crate opens inside it.
pub const UNSAMPLED_TARGET: &str = "link_telemetry::unsampled";

/// The target of the events that carry prompt and completion text (only under the audit
/// content policy `full`): a log subscriber should leave this target out, an exporter take it.
pub const CONTENT_TARGET: &str = "link_telemetry::content";
