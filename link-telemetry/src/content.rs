//! Prompt and completion text in traces, only under the audit content policy `full`: one
//! event per model call, `gen_ai.client.inference.operation.details`, on the call's span,
//! with `gen_ai.system_instructions`, `gen_ai.input.messages` and `gen_ai.output.messages` as
//! the GenAI conventions shape them (JSON). The event has its own target
//! ([`CONTENT_TARGET`]) so that a log subscriber can leave it out while an exporter takes it;
//! when nobody takes it, nothing is copied or serialised.

use link_core::{ChatRequest, ContentPolicy};
use serde::Serialize;
use tracing::{Level, Span};

use crate::CONTENT_TARGET;

/// The text of one call, kept until the call ends: the instructions and the input already in
/// the conventions' JSON (serialised straight from the request, with no copy of the text in
/// between), the reply as it comes.
#[derive(Debug)]
pub(crate) struct Transcript {
    system: String,
    input: String,
    output: String,
}

impl Transcript {
    /// The request of a chat call on `span`, if the policy and the subscriber want its text.
    pub(crate) fn of_chat(
        policy: ContentPolicy,
        request: &ChatRequest,
        span: &Span,
    ) -> Option<Self> {
        wanted(policy, span).then(|| {
            let input = (request.messages.iter())
                .map(|m| Message::new(m.role.as_str(), &m.content, None))
                .collect::<Vec<_>>();
            Self {
                system: json(&[Part::text(&request.system)]),
                input: json(&input),
                output: String::new(),
            }
        })
    }

    /// The request of a persona extraction on `span`, if the policy and the subscriber want
    /// its text.
    pub(crate) fn of_extraction(policy: ContentPolicy, request: &str, span: &Span) -> Option<Self> {
        wanted(policy, span).then(|| Self {
            system: String::new(),
            input: json(&[Message::new("user", request, None)]),
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
        let output = json(&[Message::new("assistant", &self.output, finish_reason)]);
        tracing::event!(
            name: "gen_ai.client.inference.operation.details",
            target: CONTENT_TARGET,
            parent: span,
            Level::DEBUG,
            gen_ai.system_instructions = self.system,
            gen_ai.input.messages = self.input,
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
#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    parts: [Part<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<&'a str>,
}

impl<'a> Message<'a> {
    fn new(role: &'a str, text: &'a str, finish_reason: Option<&'a str>) -> Self {
        let parts = [Part::text(text)];
        Self {
            role,
            parts,
            finish_reason,
        }
    }
}

/// A part of a message or of the instructions: text only, in Link.
#[derive(Serialize)]
struct Part<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    content: &'a str,
}

impl<'a> Part<'a> {
    fn text(content: &'a str) -> Self {
        Self {
            kind: "text",
            content,
        }
    }
}

/// `value` as JSON (of borrowed strings and arrays: it cannot fail; empty if it ever did).
fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
