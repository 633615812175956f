//! The label sets of the metrics. Every value is static (a method, an operation, an error
//! code, a provider name) or configured once per process (a route template, a model id):
//! nothing here can hold a user, a token, an id or text.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;

/// One HTTP route answering with one status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct HttpLabels {
    pub(crate) method: &'static str,
    pub(crate) route: String,
    pub(crate) status: u16,
}

/// One HTTP route.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) method: &'static str,
    pub(crate) route: String,
}

/// One model behind one port (`operation` is `chat` or `extract_persona`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ModelLabels {
    pub(crate) operation: &'static str,
    pub(crate) provider: &'static str,
    pub(crate) model: Arc<String>,
}

/// How a model call ended: `ok`, `cancelled`, `incomplete` or an error code.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OutcomeLabels {
    pub(crate) operation: &'static str,
    pub(crate) provider: &'static str,
    pub(crate) model: Arc<String>,
    pub(crate) outcome: &'static str,
}

/// Tokens one way (`input` or `output`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TokenLabels {
    pub(crate) operation: &'static str,
    pub(crate) provider: &'static str,
    pub(crate) model: Arc<String>,
    pub(crate) token_type: &'static str,
}

/// One kind of guardrail intervention (`guardrail_intervened`, `guardrail_blocked`,
/// `content_filtered`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct GuardrailLabels {
    pub(crate) provider: &'static str,
    pub(crate) model: Arc<String>,
    pub(crate) kind: &'static str,
}

/// A provider alone.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ProviderLabels {
    pub(crate) provider: &'static str,
}

/// A rate limiter's decision (`allowed` or `denied`) in one scope (`user`, `ip`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct LimitLabels {
    pub(crate) scope: &'static str,
    pub(crate) decision: &'static str,
}

/// One store operation and how it ended (`ok` or an error code).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StoreLabels {
    pub(crate) store: &'static str,
    pub(crate) operation: &'static str,
    pub(crate) outcome: &'static str,
}

/// How a token check ended (`ok`, or the error code).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct AuthLabels {
    pub(crate) outcome: &'static str,
}
