//! Exactly one audit event per action, even when the caller drops the future mid-way; and the
//! tokens a model reported for the action, spent against the caller's daily quota.

use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument;

use crate::{
    AuditAction, AuditEvent, AuditOutcome, AuditSink, ConversationId, Error, Principal,
    RateLimiter, RequestContext, Usage, conversation::now,
};

/// An audit event being filled in while an action runs. Finishing it records the event; if it
/// is dropped unfinished (the caller went away), it records the event as cancelled.
#[derive(Debug)]
pub(crate) struct AuditGuard {
    event: Option<AuditEvent>,
    started: Instant,
    sink: Arc<dyn AuditSink>,
    limiter: Arc<dyn RateLimiter>,
    principal: Principal,
}

impl AuditGuard {
    pub(crate) fn start(
        sink: Arc<dyn AuditSink>,
        limiter: Arc<dyn RateLimiter>,
        ctx: &RequestContext,
        action: AuditAction,
    ) -> Self {
        let event = AuditEvent {
            timestamp: now(),
            request_id: ctx.request_id.clone(),
            client_request_id: ctx.client_request_id().map(str::to_owned),
            sub: ctx.principal.sub.clone(),
            action,
            conversation_id: None,
            outcome: AuditOutcome::Cancelled,
            error: None,
            latency_ms: 0.0,
            model: None,
            usage: None,
            input: None,
            prompt: None,
            response: None,
        };
        Self {
            event: Some(event),
            started: Instant::now(),
            sink,
            limiter,
            principal: ctx.principal.clone(),
        }
    }

    fn edit(&mut self, f: impl FnOnce(&mut AuditEvent)) {
        if let Some(event) = self.event.as_mut() {
            f(event);
        }
    }

    pub(crate) fn conversation(&mut self, id: ConversationId) {
        self.edit(|e| e.conversation_id = Some(id));
    }

    pub(crate) fn model(&mut self, model: String) {
        self.edit(|e| e.model = Some(model));
    }

    /// Records the input's length and hash (never its text): what is kept of an input that the
    /// limiter or validation refuses.
    pub(crate) fn input(&mut self, text: &str) {
        self.edit(|e| e.input = Some(crate::InputDigest::of(text)));
    }

    /// Records the input's text, once it passed the rate limit and validation.
    pub(crate) fn prompt(&mut self, text: &str) {
        self.edit(|e| e.prompt = Some(text.to_owned()));
    }

    /// Records the reply and the tokens the model reported for it, which are also spent
    /// against the caller's daily quota (whether the reply is then shown or blocked).
    pub(crate) fn response(&mut self, text: &str, usage: Option<Usage>) {
        if let Some(usage) = usage {
            (self.limiter).spend_tokens(&self.principal, usage.total_tokens);
        }
        self.edit(|e| {
            e.response = Some(text.to_owned());
            e.usage = usage;
        });
    }

    /// Records the event as failed with `error`, and gives the error back.
    pub(crate) async fn fail(self, error: Error) -> Error {
        let result: Result<(), Error> = Err(error);
        self.finish(&result).await;
        result.err().unwrap_or(Error::Cancelled)
    }

    /// Records the event with the outcome `result` implies.
    pub(crate) async fn finish<T>(mut self, result: &Result<T, Error>) {
        let Some(mut event) = self.event.take() else {
            return;
        };
        match result {
            Ok(_) => event.outcome = AuditOutcome::Ok,
            Err(error) => set_error(&mut event, error),
        }
        record(&*self.sink, event.with_latency(self.started.elapsed())).await;
    }
}

fn set_error(event: &mut AuditEvent, error: &Error) {
    event.outcome = match error {
        Error::RateLimited { .. } | Error::QuotaExceeded { .. } => AuditOutcome::RateLimited,
        Error::Cancelled => AuditOutcome::Cancelled,
        _ => AuditOutcome::Error,
    };
    // A used-up quota is a limit too, but which limit matters: its code is kept.
    if event.outcome == AuditOutcome::Error || matches!(error, Error::QuotaExceeded { .. }) {
        event.error = Some(error.code().to_owned());
    }
}

async fn record(sink: &dyn AuditSink, event: AuditEvent) {
    if let Err(error) = sink.record(&event).await {
        tracing::error!(%error, request_id = %event.request_id, "audit event was not recorded");
    }
}

impl Drop for AuditGuard {
    fn drop(&mut self) {
        let Some(event) = self.event.take() else {
            return;
        };
        let event = event.with_latency(self.started.elapsed());
        let sink = self.sink.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move { record(&*sink, event).await }.in_current_span());
            }
            Err(_) => tracing::error!(
                request_id = %event.request_id,
                "cancelled action not audited: no async runtime to record it on"
            ),
        }
    }
}
