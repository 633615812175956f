//! Driving a streamed turn in its own task, so a caller that goes away is noticed at once.
//!
//! The task forwards model events to the caller through a bounded channel. When the caller
//! drops its end, the task drops the model stream (cancelling the call), stores what the
//! action's [`Commit`] keeps of a dropped stream, and audits the action as cancelled.
//!
//! With a moderator, deltas pass through a [`Gate`] that holds them back until a segment is
//! checked; without one they are forwarded as they come, with no buffering.

use futures::StreamExt;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::commit::{Commit, tally_unstored};
use super::guard::AuditGuard;
use super::moderate::Gate;
use super::summarise::{Departed, Summariser};
use super::turn::blocked;
use super::{TurnEvent, TurnStream};
use crate::{
    ChatEvent, ChatStream, ConversationId, ConversationStore, Error, RequestContext, Result,
    StopReason, Usage,
};
use std::sync::Arc;

/// How many events may wait for a slow reader before the model stream is paused.
const BUFFER: usize = 32;

pub(super) struct Driver {
    pub(super) store: std::sync::Arc<dyn ConversationStore>,
    pub(super) owner: String,
    pub(super) conversation: ConversationId,
    pub(super) commit: Commit,
    pub(super) audit: AuditGuard,
    /// Holds text back until the moderator passed it; `None` without a turn moderator.
    pub(super) gate: Option<Gate>,
    /// The turns that left the window, summarised once the reply is stored.
    pub(super) memory: Option<(Arc<Summariser>, RequestContext, Departed)>,
}

enum End {
    Done(StopReason, Option<Usage>),
    Failed(Error),
    /// The moderator blocked the reply (or could not check it): nothing more is sent. The
    /// usage is known when the block came after the model finished.
    Withheld(Error, Option<Usage>),
    Cancelled,
}

impl Driver {
    pub(super) fn spawn(self, upstream: ChatStream) -> TurnStream {
        let (tx, rx) = mpsc::channel(BUFFER);
        // In the caller's span, so the store write and audit line of the stream's end stay
        // in the request's trace.
        tokio::spawn(self.run(upstream, tx).in_current_span());
        futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed()
    }

    async fn run(mut self, mut upstream: ChatStream, tx: mpsc::Sender<Result<TurnEvent>>) {
        let mut text = String::new();
        let end = loop {
            let event = tokio::select! {
                biased;
                () = tx.closed() => break End::Cancelled,
                event = upstream.next() => event,
            };
            match event {
                Some(Ok(ChatEvent::Delta { text: delta })) => {
                    text.push_str(&delta);
                    let delta = match &mut self.gate {
                        None => delta,
                        Some(gate) => match until_closed(&tx, gate.push(&delta)).await {
                            Some(Ok(Some(segment))) => segment,
                            Some(Ok(None)) => continue,
                            Some(Err(error)) => break End::Withheld(error, None),
                            None => break End::Cancelled,
                        },
                    };
                    if tx.send(Ok(TurnEvent::Delta { text: delta })).await.is_err() {
                        break End::Cancelled;
                    }
                }
                Some(Ok(ChatEvent::GuardrailIntervened { message })) => {
                    let shown = self.gate.as_ref().map_or(text.as_str(), Gate::released);
                    let message = message.unwrap_or_else(|| shown.to_owned());
                    break End::Failed(Error::GuardrailBlocked { message });
                }
                Some(Ok(ChatEvent::Done { stop_reason, usage })) => {
                    // A reply the provider stopped is not released: `complete` refuses it.
                    let Some(gate) = self
                        .gate
                        .as_mut()
                        .filter(|_| blocked(&stop_reason, "").is_ok())
                    else {
                        break End::Done(stop_reason, usage);
                    };
                    match until_closed(&tx, gate.finish()).await {
                        Some(Ok(rest)) if rest.is_empty() => {}
                        Some(Ok(rest)) => {
                            if tx.send(Ok(TurnEvent::Delta { text: rest })).await.is_err() {
                                break End::Cancelled;
                            }
                        }
                        Some(Err(error)) => break End::Withheld(error, usage),
                        None => break End::Cancelled,
                    }
                    break End::Done(stop_reason, usage);
                }
                Some(Err(error)) => break End::Failed(error),
                None => {
                    break End::Failed(
                        Error::provider("model", "the reply stream ended without finishing")
                            .with_retryable(true),
                    );
                }
            }
        };
        drop(upstream);
        self.finish(end, text, &tx).await;
    }

    async fn finish(mut self, end: End, text: String, tx: &mpsc::Sender<Result<TurnEvent>>) {
        // With a gate, only what it released was said: the rest of a reply that did not end
        // well is neither stored nor audited. (A reply that ended was all released, unless the
        // provider stopped it, which `complete` handles as without a gate.)
        let text = match (self.gate.take(), &end) {
            (Some(gate), End::Failed(_) | End::Withheld(..) | End::Cancelled) => {
                gate.released().to_owned()
            }
            _ => text,
        };
        match end {
            End::Done(stop_reason, usage) => {
                self.audit.response(&text, usage);
                let result = self.complete(stop_reason, usage, text).await;
                if let (Ok(_), Some((summariser, ctx, departed))) = (&result, self.memory.take()) {
                    summariser.spawn(&ctx, Some(departed));
                }
                let outcome: Result<()> = result.as_ref().map(|_| ()).map_err(Clone::clone);
                let _ = tx.send(result).await;
                self.audit.finish(&outcome).await;
            }
            End::Failed(error) => {
                self.audit.response(&text, None);
                let _ = tx.send(Err(error.clone())).await;
                self.audit.fail(error).await;
            }
            End::Withheld(error, usage) => {
                self.audit.withheld(usage);
                tally_unstored(&*self.store, &self.owner, self.conversation, usage).await;
                let _ = tx.send(Err(error.clone())).await;
                self.audit.fail(error).await;
            }
            End::Cancelled => {
                self.audit.response(&text, None);
                if let Err(error) = self.persist_partial(text).await {
                    tracing::error!(%error, "partial reply of a cancelled stream was not stored");
                }
                self.audit.fail(Error::Cancelled).await;
            }
        }
    }

    async fn complete(
        &self,
        stop_reason: StopReason,
        usage: Option<Usage>,
        text: String,
    ) -> Result<TurnEvent> {
        if let Err(error) = blocked(&stop_reason, &text) {
            tally_unstored(&*self.store, &self.owner, self.conversation, usage).await;
            return Err(error);
        }
        let (splice, message) = self.commit.with_reply(text, usage);
        self.store
            .splice(&self.owner, self.conversation, &splice)
            .await?;
        Ok(TurnEvent::Done {
            message,
            stop_reason,
            usage,
        })
    }

    /// Stores what the commit keeps of a dropped stream.
    async fn persist_partial(&self, text: String) -> Result<()> {
        match self.commit.on_cancel(text) {
            Some(splice) => {
                self.store
                    .splice(&self.owner, self.conversation, &splice)
                    .await
            }
            None => Ok(()),
        }
    }
}

/// Runs `work` unless the caller goes away first (`None`), so a slow moderation call does not
/// keep a dropped stream's model call running.
async fn until_closed<T>(
    tx: &mpsc::Sender<Result<TurnEvent>>,
    work: impl Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        biased;
        () = tx.closed() => None,
        out = work => Some(out),
    }
}
