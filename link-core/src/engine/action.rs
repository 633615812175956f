//! The one way every action runs: begin its audit event, admit it past the rate limit, run
//! it, finish the audit event with its outcome.

use super::Link;
use super::guard::AuditGuard;
use crate::{AuditAction, ConversationId, Error, RateDecision, RequestContext, Result};

impl Link {
    /// Runs `body` as the action `action` of `ctx`'s caller: exactly one audit event, written
    /// also when the limiter refuses, the body fails, or the caller drops the future.
    pub(super) async fn act<T>(
        &self,
        ctx: &RequestContext,
        action: AuditAction,
        conversation: Option<ConversationId>,
        body: impl AsyncFnOnce(&mut AuditGuard) -> Result<T>,
    ) -> Result<T> {
        let mut audit = self.admit(ctx, action, conversation).await?;
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
        action: AuditAction,
        conversation: Option<ConversationId>,
    ) -> Result<AuditGuard> {
        let mut audit = AuditGuard::start(self.audit.clone(), ctx, action);
        if let Some(id) = conversation {
            audit.conversation(id);
        }
        let decision = ctx
            .admission()
            .unwrap_or_else(|| self.limiter.check(&ctx.principal));
        match decision {
            RateDecision::Allowed { .. } => Ok(audit),
            RateDecision::Denied { retry_after, .. } => {
                Err(audit.fail(Error::RateLimited { retry_after }).await)
            }
        }
    }
}
