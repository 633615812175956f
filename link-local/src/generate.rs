//! One generation on a worker: evaluate the prompt, then sample, stream and decode token by
//! token until the model ends its turn, a stop sequence appears, the token budget is spent,
//! or the caller goes away.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use link_core::{ChatEvent, Error, Result, StopReason, Usage};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::Sender;

use crate::pool::Counters;
use crate::prefix::CachedPrefix;
use crate::sampler::{Sampling, TokenSampler};
use crate::stop::StopMatcher;
use crate::utf8::Utf8Decoder;

/// A queued request for a worker.
#[derive(Debug)]
pub(crate) struct Job {
    /// The fully formatted prompt (chat template applied).
    pub(crate) prompt: String,
    pub(crate) sampling: Sampling,
    /// GBNF the output must follow, if any.
    pub(crate) grammar: Option<Arc<str>>,
    pub(crate) max_tokens: u32,
    pub(crate) stops: Vec<String>,
    /// Where events go; closed when the caller drops the stream.
    pub(crate) events: Sender<Result<ChatEvent>>,
}

/// Why generation ended early: the caller left, so there is nobody to tell.
struct CallerGone;

/// A worker's llama.cpp state: its context and what the context's KV cache holds.
pub(crate) struct WorkerContext<'m> {
    pub(crate) model: &'m LlamaModel,
    pub(crate) ctx: LlamaContext<'m>,
    pub(crate) cache: CachedPrefix,
    /// The configured context window (prompt plus reply). llama.cpp rounds its context up
    /// (to a multiple of 256), so the configured size, not the context's, bounds a request.
    pub(crate) window: usize,
}

/// Runs `job` on this worker's context and reports through its channel.
pub(crate) fn run(worker: &mut WorkerContext<'_>, job: Job, counters: &Counters) {
    if job.events.is_closed() {
        return; // dropped while it waited in the queue
    }
    counters.active.fetch_add(1, Ordering::SeqCst);
    let events = job.events.clone();
    let outcome = generate(worker, job, counters);
    counters.active.fetch_sub(1, Ordering::SeqCst);
    let last = match outcome {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(CallerGone)) => return,
        Err(e) => {
            worker.cache.forget(&mut worker.ctx);
            Err(e)
        }
    };
    let _ = events.blocking_send(last);
}

type Outcome = Result<std::result::Result<ChatEvent, CallerGone>>;

fn generate(worker: &mut WorkerContext<'_>, job: Job, counters: &Counters) -> Outcome {
    let WorkerContext {
        model,
        ctx,
        cache,
        window,
    } = worker;
    let vocab = model.vocab();
    let prompt = vocab.tokenize(job.prompt.as_bytes(), true, true);
    let n_ctx = (ctx.n_ctx() as usize).min(*window);
    if prompt.is_empty() || prompt.len() >= n_ctx {
        return Err(Error::invalid(format!(
            "the prompt is {} tokens; the local model's context holds {n_ctx}",
            prompt.len()
        )));
    }
    let budget = (job.max_tokens as usize).min(n_ctx - prompt.len());
    let mut sampler = TokenSampler::new(model, &job.sampling, job.grammar.as_deref())?;
    let mut batch = LlamaBatch::new(ctx.n_batch() as usize, 1);
    let reused = cache.reuse(ctx, &prompt);
    counters
        .prompt_tokens_reused
        .fetch_add(reused as u64, Ordering::Relaxed);
    evaluate_prompt(ctx, &mut batch, &prompt, reused)?;
    cache.extend(&prompt[reused..]);

    let mut text = Utf8Decoder::default();
    let mut stops = StopMatcher::new(&job.stops);
    let start = position(prompt.len())?;
    let mut produced = 0u64;
    let mut reason = StopReason::MaxTokens;
    for pos in (start..).take(budget) {
        if job.events.is_closed() {
            return Ok(Err(CallerGone));
        }
        let token = sampler.next(ctx);
        counters.grammar_rejections.fetch_add(
            std::mem::take(&mut sampler.grammar_resamples),
            Ordering::Relaxed,
        );
        let token = token?;
        produced += 1;
        counters.add_token();
        if vocab.is_eog(token) {
            reason = StopReason::EndTurn;
            break;
        }
        let scan = stops.push(&text.push(&vocab.token_to_piece(token, false, None)));
        if send(&job.events, scan.text).is_err() {
            return Ok(Err(CallerGone));
        }
        if scan.stopped {
            reason = StopReason::StopSequence;
            break;
        }
        decode_one(ctx, &mut batch, token, pos)?;
        cache.extend(&[token]);
    }
    if reason != StopReason::StopSequence {
        let scan = stops.push(&text.finish());
        let rest = if scan.stopped {
            reason = StopReason::StopSequence;
            scan.text
        } else {
            scan.text + &stops.finish()
        };
        if send(&job.events, rest).is_err() {
            return Ok(Err(CallerGone));
        }
    }
    Ok(Ok(ChatEvent::Done {
        stop_reason: reason,
        usage: Some(Usage::new(prompt.len() as u64, produced)),
    }))
}

/// Sends a non-empty delta; fails when the caller has gone.
fn send(events: &Sender<Result<ChatEvent>>, text: String) -> std::result::Result<(), CallerGone> {
    if text.is_empty() {
        return Ok(());
    }
    events
        .blocking_send(Ok(ChatEvent::Delta { text }))
        .map_err(|_| CallerGone)
}

/// Evaluates `prompt[from..]` (the tokens before `from` are already in the KV cache).
fn evaluate_prompt(
    ctx: &mut LlamaContext<'_>,
    batch: &mut LlamaBatch<'_>,
    prompt: &[LlamaToken],
    from: usize,
) -> Result<()> {
    let chunk = (ctx.n_batch() as usize).max(1);
    let last = prompt.len() - 1;
    for (c, tokens) in prompt[from..].chunks(chunk).enumerate() {
        batch.clear();
        for (i, token) in tokens.iter().enumerate() {
            let index = from + c * chunk + i;
            batch
                .add(*token, position(index)?, &[0], index == last)
                .map_err(|e| failure(format!("prompt batch: {e}")))?;
        }
        ctx.decode(batch)
            .map_err(|e| failure(format!("prompt evaluation failed: {e}")))?;
    }
    Ok(())
}

fn decode_one(
    ctx: &mut LlamaContext<'_>,
    batch: &mut LlamaBatch<'_>,
    token: LlamaToken,
    pos: i32,
) -> Result<()> {
    batch.clear();
    batch
        .add(token, pos, &[0], true)
        .map_err(|e| failure(format!("token batch: {e}")))?;
    ctx.decode(batch)
        .map_err(|e| failure(format!("decoding failed: {e}")))
}

fn position(index: usize) -> Result<i32> {
    i32::try_from(index).map_err(|_| Error::invalid("the prompt is too long"))
}

/// A failure of the local model (llama.cpp, or its workers gone): trying again will not help.
pub(crate) fn failure(message: String) -> Error {
    Error::provider("local", message)
}
