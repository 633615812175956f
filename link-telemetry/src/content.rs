//! Prompt and completion text in traces, only under the audit content policy `full`: one
//! event per model call, `gen_ai.client.inference.operation.details`, on the call's span,
//! with `gen_ai.system_instructions`, `gen_ai.input.messages` and `gen_ai.output.messages` as
//! the GenAI conventions shape them (JSON). The event has its own target
//! ([`CONTENT_TARGET`]) so that a log subscriber can leave it out while an exporter takes it;
//! when nobody takes it, nothing is copied or serialised.

use link_core::{ChatRequest, ContentPolicy};
use serde_json::{Value, json};
use tracing::{Level, Span};

use crate::CONTENT_TARGET;

/// The text of one call, kept until the call ends.
#[derive(Debug)]
pub(crate) struct Transcript {
    system: Option<String>,
    input: Vec<Value>,
    output: String,
}

impl Transcript {
    /// The request of a chat call on `span`, if the policy and the subscriber want its text.
    pub(crate) fn of_chat(
        policy: ContentPolicy,
        request: &ChatRequest,
        span: &Span,
    ) -> Option<Self> {
        wanted(policy, span).then(|| Self {
            system: Some(request.system.clone()),
            input: (request.messages.iter())
                .map(|m| message(m.role.as_str(), &m.content, None))
                .collect(),
            output: String::new(),
        })
    }

    /// The request of a persona extraction on `span`, if the policy and the subscriber want
    /// its text.
    pub(crate) fn of_extraction(policy: ContentPolicy, request: &str, span: &Span) -> Option<Self> {
        wanted(policy, span).then(|| Self {
            system: None,
            input: vec![message("user", request, None)],
            output: String::new(),
        })
    }

    /// More reply text.
    pub(crate) fn push(&mut self, text: &str) {
        self.output.push_str(text);
    }

    /// Emits the event on `span`; `finish_reason` is `None` when the call failed (the reply
    /// so far, if any, is still given).
    pub(crate) fn emit(self, span: &Span, finish_reason: Option<&str>) {
        let system = (self.system.as_deref())
            .map(|s| json!([{"type": "text", "content": s}]).to_string())
            .unwrap_or_default();
        let input = Value::Array(self.input).to_string();
        let output = json!([message("assistant", &self.output, finish_reason)]).to_string();
        tracing::event!(
            name: "gen_ai.client.inference.operation.details",
            target: CONTENT_TARGET,
            parent: span,
            Level::DEBUG,
            gen_ai.system_instructions = system,
            gen_ai.input.messages = input,
            gen_ai.output.messages = output,
        );
    }
}

/// Whether text may go into traces (policy `full`), a subscriber takes it, and `span` is
/// in a trace that is kept: the text of an unsampled call is never copied or serialised.
fn wanted(policy: ContentPolicy, span: &Span) -> bool {
    policy == ContentPolicy::Full
        && tracing::enabled!(target: CONTENT_TARGET, Level::DEBUG)
        && !span.is_disabled()
        && !crate::spans::unsampled(span)
}

/// One message as the conventions shape it.
fn message(role: &str, text: &str, finish_reason: Option<&str>) -> Value {
    let mut message = json!({"role": role, "parts": [{"type": "text", "content": text}]});
    if let Some(reason) = finish_reason {
        message["finish_reason"] = json!(reason);
    }
    message
}
