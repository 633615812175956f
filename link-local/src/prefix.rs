//! Reusing a worker's KV cache from one request to the next.
//!
//! A chat's next prompt repeats the previous one (system prompt with the persona, the history)
//! and adds the reply and a new message; every extraction starts with the same instructions.
//! The worker remembers which tokens its KV cache holds, keeps the longest prefix the new
//! prompt shares with them, and evaluates only the rest, as llama.cpp's server does with
//! `cache_prompt`.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::token::LlamaToken;

/// The tokens whose keys and values sit in a worker's KV cache, at positions `0..len`.
#[derive(Debug, Default)]
pub(crate) struct CachedPrefix {
    tokens: Vec<LlamaToken>,
}

impl CachedPrefix {
    /// Keeps the longest prefix the cache shares with `prompt` and drops the rest from the
    /// context; returns how many of the prompt's tokens need no evaluation.
    ///
    /// The last prompt token is always evaluated again, because its logits pick the first
    /// reply token. A context that cannot drop part of its cache is cleared instead.
    pub(crate) fn reuse(&mut self, ctx: &mut LlamaContext<'_>, prompt: &[LlamaToken]) -> usize {
        let shared = self
            .tokens
            .iter()
            .zip(prompt)
            .take_while(|(cached, new)| cached == new)
            .count()
            .min(prompt.len().saturating_sub(1));
        let dropped = u32::try_from(shared)
            .ok()
            .and_then(|from| ctx.clear_kv_cache_seq(None, Some(from), None).ok())
            .unwrap_or(false);
        if dropped {
            self.tokens.truncate(shared);
            shared
        } else {
            self.forget(ctx);
            0
        }
    }

    /// Records tokens just decoded into the cache, after those it holds.
    pub(crate) fn extend(&mut self, tokens: &[LlamaToken]) {
        self.tokens.extend_from_slice(tokens);
    }

    /// Empties the cache: after a failure, what it holds is unknown.
    pub(crate) fn forget(&mut self, ctx: &mut LlamaContext<'_>) {
        ctx.clear_kv_cache();
        self.tokens.clear();
    }
}
