//! [`Call`]: one model call from its start until it ends or is dropped. It holds the call in
//! the in-flight gauge, times it, and counts it exactly once with its outcome; a call dropped
//! before it ended (the caller went away) is counted as `cancelled`.

use std::sync::Arc;
use std::time::Instant;

use link_core::{Error, StopReason, Usage};
use tracing::Span;

use crate::instruments::ModelInstruments;
use crate::spans;

/// A model call in progress.
#[derive(Debug)]
pub(crate) struct Call {
    instruments: Arc<ModelInstruments>,
    /// The call's span (disabled when no subscriber wants it).
    pub(crate) span: Span,
    started: Instant,
    first_text: Option<Instant>,
    last_text: Option<Instant>,
    /// Whether a guardrail intervention was counted already (an event and then the stop
    /// reason may both tell of the same one).
    intervened: bool,
    outcome: Option<&'static str>,
}

impl Call {
    /// Starts a call: counted in flight from now.
    pub(crate) fn start(instruments: Arc<ModelInstruments>, span: Span) -> Self {
        instruments.in_flight.inc();
        Self {
            instruments,
            span,
            started: Instant::now(),
            first_text: None,
            last_text: None,
            intervened: false,
            outcome: None,
        }
    }

    /// Some text arrived: the first gives the time to first token, the others a chunk gap.
    pub(crate) fn text(&mut self) {
        let now = Instant::now();
        match self.last_text {
            None => {
                let wait = now.duration_since(self.started);
                self.instruments
                    .time_to_first_token
                    .observe(wait.as_secs_f64());
                self.first_text = Some(now);
            }
            Some(last) => {
                let gap = now.duration_since(last);
                self.instruments.chunk_gap.observe(gap.as_secs_f64());
            }
        }
        self.last_text = Some(now);
    }

    /// A guardrail changed or stopped the reply (`kind`: `guardrail_intervened`,
    /// `guardrail_blocked`, `content_filtered`); counted once a call.
    pub(crate) fn intervened(&mut self, kind: &'static str) {
        if !self.intervened {
            self.intervened = true;
            self.instruments.guardrail(kind);
        }
    }

    /// A guardrail event in a stream: the engine answers it as `guardrail_blocked` and stops
    /// reading, so that is the call's outcome unless the stream says otherwise.
    pub(crate) fn guardrail_event(&mut self) {
        self.intervened("guardrail_intervened");
        self.outcome = Some("guardrail_blocked");
    }

    /// The call ended well: why, and the tokens when the provider reported them. A reply a
    /// guardrail or the content filter stopped counts under the error the engine answers it
    /// with (`guardrail_blocked`, `content_filtered`).
    pub(crate) fn finish(&mut self, stop_reason: &StopReason, usage: Option<&Usage>) {
        let outcome = match stop_reason {
            StopReason::GuardrailIntervened => {
                self.intervened("guardrail_intervened");
                "guardrail_blocked"
            }
            StopReason::ContentFiltered => {
                self.intervened("content_filtered");
                "content_filtered"
            }
            _ => "ok",
        };
        spans::record_end(&self.span, stop_reason, usage);
        if let Some(usage) = usage {
            self.instruments
                .tokens(usage.input_tokens, usage.output_tokens);
            self.speed(usage.output_tokens);
        }
        self.outcome = Some(outcome);
    }

    /// The call ended well (a port that tells no more than that).
    pub(crate) fn succeed(&mut self) {
        self.outcome = Some("ok");
    }

    /// The call failed with `error` (before its first token or mid-stream).
    pub(crate) fn fail(&mut self, error: &Error) {
        match error {
            Error::GuardrailBlocked { .. } => self.intervened("guardrail_blocked"),
            Error::ContentFiltered { .. } => self.intervened("content_filtered"),
            _ => {}
        }
        spans::record_error(&self.span, error);
        self.outcome = Some(error.code());
    }

    /// The stream ended without saying how (no done event, no error).
    pub(crate) fn incomplete(&mut self) {
        if self.outcome.is_none() {
            spans::record_failure(&self.span, "incomplete");
            self.outcome = Some("incomplete");
        }
    }

    /// Output tokens per second of generation: after the first text when streamed, the whole
    /// call otherwise (or when all the text came at once).
    fn speed(&self, output_tokens: u64) {
        let end = Instant::now();
        let since = match (self.first_text, self.last_text) {
            (Some(first), Some(last)) if last > first => first,
            _ => self.started,
        };
        let seconds = end.duration_since(since).as_secs_f64();
        if output_tokens > 0 && seconds > 0.0 {
            self.instruments
                .tokens_per_second
                .observe(output_tokens as f64 / seconds);
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.instruments.in_flight.dec();
        let elapsed = self.started.elapsed();
        self.instruments.duration.observe(elapsed.as_secs_f64());
        let outcome = self.outcome.unwrap_or_else(|| {
            self.span.record("error.type", "cancelled");
            "cancelled"
        });
        self.instruments.ended(outcome);
    }
}
