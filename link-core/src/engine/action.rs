//! The one way every action runs: begin its audit event, admit it past the rate limit (weighed
//! by what it costs) and the daily token quota, run it, finish the audit event with its
//! outcome.

use super::Link;
use super::guard::AuditGuard;
use crate::{AuditAction, ConversationId, Error, RateDecision, RequestContext, Result};

impl Link {
    /// Runs `body` as the action `action` of `ctx`'s caller: exactly one audit event, written
    /// also when the limiter refuses, the body fails, or the caller drops the future. Of the
    /// caller's `input` the event keeps only its length and hash until the body records the
    /// text (after validating it), so a refused request costs its sender, not the log.
    pub(super) async fn act<T>(
        &self,
        ctx: &RequestContext,
        action: Action<'_>,
        body: impl AsyncFnOnce(&mut AuditGuard) -> Result<T>,
    ) -> Result<T> {
        let mut audit = self.admit(ctx, action).await?;
        let result = body(&mut audit).await;
        audit.finish(&result).await;
        result
    }

    /// Begins the action's audit event and counts it against the caller's quota. A denial is
    /// audited here and returned as [`Error::RateLimited`]; otherwise the caller owns the event
    /// and must finish it (a stream finishes it when it ends).
    pub(super) async fn admit(
        &self,
        ctx: &RequestContext,
        action: Action<'_>,
    ) -> Result<AuditGuard> {
        let mut audit =
            AuditGuard::start(self.audit.clone(), self.limiter.clone(), ctx, action.kind);
        if let Some(id) = action.conversation {
            audit.conversation(id);
        }
        if let Some(input) = action.input {
            audit.input(input);
        }
        let decision = ctx.admission().unwrap_or_else(|| {
            (self.limiter).admit(&ctx.principal, action.cost(), action.calls_model())
        });
        match decision {
            RateDecision::Allowed { .. } => Ok(audit),
            RateDecision::Denied { retry_after, .. } => {
                Err(audit.fail(Error::RateLimited { retry_after }).await)
            }
            RateDecision::Exhausted { retry_after } => {
                Err(audit.fail(tokens_used_up(retry_after)).await)
            }
        }
    }
}

/// The refusal of a model call once the caller's tokens of the day are used up.
fn tokens_used_up(retry_after: std::time::Duration) -> Error {
    Error::QuotaExceeded {
        message: "your daily token quota is used up; it renews at 00:00 UTC".to_owned(),
        retry_after,
    }
}

/// What an action is, as its audit event first records it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Action<'a> {
    kind: AuditAction,
    conversation: Option<ConversationId>,
    input: Option<&'a str>,
}

impl<'a> Action<'a> {
    /// An action of this kind.
    pub(super) fn new(kind: AuditAction) -> Self {
        Self {
            kind,
            conversation: None,
            input: None,
        }
    }

    /// On this conversation.
    pub(super) fn on(mut self, conversation: ConversationId) -> Self {
        self.conversation = Some(conversation);
        self
    }

    /// Taking this input from the caller.
    pub(super) fn with_input(mut self, input: &'a str) -> Self {
        self.input = Some(input);
        self
    }

    /// Whether it calls a model: a conversation started from a given persona (no request to
    /// extract one from) does not.
    fn calls_model(&self) -> bool {
        match self.kind {
            AuditAction::CreateConversation => self.input.is_some(),
            kind => kind.calls_model(),
        }
    }

    /// What it costs against the caller's rate limit ([`AuditAction::cost`]; 1 without a
    /// model call).
    fn cost(&self) -> u32 {
        if self.calls_model() {
            self.kind.cost()
        } else {
            1
        }
    }
}
