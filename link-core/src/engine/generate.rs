//! Running an action that generates a reply, whole or streamed: admit it, prepare the prompt
//! and the [`Commit`](super::commit::Commit), call the model, store the reply. Sending,
//! regenerating and resending an edited message differ only in how they prepare.

use super::action::Action;
use super::commit::tally_unstored;
use super::guard::AuditGuard;
use super::moderate::Gate;
use super::stream::Driver;
use super::turn::{PreparedTurn, blocked};
use super::{Link, Reply, TurnStream};
use crate::{ConversationId, Persona, RequestContext, Result};

impl Link {
    /// Runs a generating action on conversation `id` and waits for the whole reply.
    pub(super) async fn generate(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        action: Action<'_>,
        prepare: impl AsyncFnOnce(&mut AuditGuard) -> Result<PreparedTurn>,
    ) -> Result<(Reply, Persona)> {
        self.act(ctx, action.on(id), async |audit| {
            let turn = prepare(audit).await?;
            let response = self.model.complete(turn.request).await?;
            let stopped = blocked(&response.stop_reason, &response.text);
            if stopped.is_ok()
                && let Err(error) = self.moderate_reply(&response.text).await
            {
                audit.withheld(response.usage);
                tally_unstored(&*self.store, &ctx.principal.sub, id, response.usage).await;
                return Err(error);
            }
            audit.response(&response.text, response.usage);
            if let Err(error) = stopped {
                tally_unstored(&*self.store, &ctx.principal.sub, id, response.usage).await;
                return Err(error);
            }
            let message = self
                .commit_reply(ctx, id, &turn.commit, response.text, response.usage)
                .await?;
            // Stored: the memory is brought up to date in the background.
            self.summariser.spawn(ctx, turn.departed);
            let reply = Reply {
                message,
                stop_reason: response.stop_reason,
                usage: response.usage,
            };
            Ok((reply, turn.persona))
        })
        .await
    }

    /// Runs a generating action on conversation `id` as a stream (see [`Link::send_stream`]).
    pub(super) async fn generate_stream(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        action: Action<'_>,
        prepare: impl AsyncFnOnce(&mut AuditGuard) -> Result<PreparedTurn>,
    ) -> Result<TurnStream> {
        let mut audit = self.admit(ctx, action.on(id)).await?;
        let started = async {
            let turn = prepare(&mut audit).await?;
            let upstream = self.model.stream(turn.request).await?;
            Ok((turn.commit, upstream, turn.departed))
        }
        .await;
        let (commit, upstream, departed) = match started {
            Ok(started) => started,
            Err(e) => return Err(audit.fail(e).await),
        };
        let driver = Driver {
            store: self.store.clone(),
            owner: ctx.principal.sub.clone(),
            conversation: id,
            commit,
            audit,
            gate: self.turn_moderator().cloned().map(Gate::new),
            memory: departed.map(|d| (self.summariser.clone(), ctx.clone(), d)),
        };
        Ok(driver.spawn(upstream))
    }
}
