//! Choosing the next token: temperature, top-k, top-p and a repeat penalty, and optionally a
//! grammar that the output must follow.
//!
//! Grammar checks are costly when run over the whole vocabulary (49k tokens for SmolLM2) at
//! every step. Like llama.cpp's own `common_sampler`, the token is first sampled without the
//! grammar and only that one token is checked; the whole vocabulary is filtered only when the
//! grammar rejects it, which is rare once the model has seen the format.

use link_core::{Error, GenerationParams, Result};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

/// llama.cpp's "pick a random seed" value.
const RANDOM_SEED: u32 = u32::MAX;
/// How far back the repeat penalty looks.
const PENALTY_WINDOW: i32 = 64;

/// Sampling settings after defaults are applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sampling {
    pub(crate) temperature: f32,
    pub(crate) top_p: f32,
    pub(crate) top_k: i32,
    pub(crate) repeat_penalty: f32,
    pub(crate) seed: Option<u32>,
}

impl Sampling {
    /// The request's settings over llama.cpp's usual defaults.
    pub(crate) fn from_params(
        params: &GenerationParams,
        repeat_penalty: f32,
        seed: Option<u32>,
    ) -> Self {
        Self {
            temperature: params.temperature.unwrap_or(0.8).max(0.0),
            top_p: params.top_p.unwrap_or(0.95).clamp(0.0, 1.0),
            top_k: params
                .top_k
                .map_or(40, |k| i32::try_from(k).unwrap_or(i32::MAX)),
            repeat_penalty,
            seed,
        }
    }

    fn chain(&self, n_vocab: i32) -> LlamaSampler {
        let mut steps = Vec::with_capacity(5);
        if self.repeat_penalty != 1.0 {
            steps.push(LlamaSampler::penalties(
                n_vocab,
                PENALTY_WINDOW,
                self.repeat_penalty,
                0.0,
                0.0,
            ));
        }
        if self.temperature <= 0.0 {
            steps.push(LlamaSampler::greedy());
        } else {
            if self.top_k > 0 {
                steps.push(LlamaSampler::top_k(self.top_k));
            }
            steps.push(LlamaSampler::top_p(self.top_p, 1));
            steps.push(LlamaSampler::temp(self.temperature));
            steps.push(LlamaSampler::dist(self.seed.unwrap_or(RANDOM_SEED)));
        }
        LlamaSampler::chain_simple(steps)
    }
}

/// Picks tokens one by one, keeping the samplers' state (penalties, grammar position).
pub(crate) struct TokenSampler {
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
    /// One entry per vocabulary token, refilled from the logits at every step (reused, so
    /// that no 0.6 MB array is allocated per token).
    candidates: LlamaTokenDataArray,
    /// How often the grammar rejected the freely sampled token (for diagnostics and tests).
    pub(crate) grammar_resamples: u64,
}

impl TokenSampler {
    /// A sampler; with `grammar` (GBNF, root rule `root`) the output is constrained.
    pub(crate) fn new(
        model: &LlamaModel,
        sampling: &Sampling,
        grammar: Option<&str>,
    ) -> Result<Self> {
        let grammar = grammar
            .map(|g| {
                LlamaSampler::grammar(model, g, "root").map_err(|e| Error::Config {
                    message: format!("the output grammar does not parse: {e}"),
                })
            })
            .transpose()?;
        Ok(Self {
            chain: sampling.chain(model.n_vocab()),
            grammar,
            candidates: LlamaTokenDataArray::new(Vec::new(), false),
            grammar_resamples: 0,
        })
    }

    /// Samples the next token from the context's last logits and records it.
    pub(crate) fn next(&mut self, ctx: &LlamaContext<'_>) -> Result<LlamaToken> {
        refill(&mut self.candidates, ctx);
        self.candidates.apply_sampler(&mut self.chain);
        let mut token = selected(&self.candidates)?;
        if let Some(grammar) = &mut self.grammar
            && !allows(grammar, token)
        {
            // Rejected: only now pay for filtering the whole vocabulary.
            self.grammar_resamples += 1;
            refill(&mut self.candidates, ctx);
            self.candidates.apply_sampler(grammar);
            self.candidates.apply_sampler(&mut self.chain);
            token = selected(&self.candidates)?;
        }
        self.chain.accept(token);
        if let Some(grammar) = &mut self.grammar {
            grammar
                .try_accept(token)
                .map_err(|e| Error::MalformedOutput {
                    message: format!("the grammar refused the sampled token: {e}"),
                })?;
        }
        Ok(token)
    }
}

/// Puts the context's latest logits into `candidates`, unsorted and with nothing selected.
fn refill(candidates: &mut LlamaTokenDataArray, ctx: &LlamaContext<'_>) {
    candidates.data.clear();
    candidates.data.extend(ctx.candidates());
    candidates.selected = None;
    candidates.sorted = false;
}

/// Whether the grammar, in its current state, allows `token` next.
fn allows(grammar: &mut LlamaSampler, token: LlamaToken) -> bool {
    let mut single = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 1.0, 0.0)], false);
    single.apply_sampler(grammar);
    single.data.first().is_some_and(|d| d.logit().is_finite())
}

fn selected(candidates: &LlamaTokenDataArray) -> Result<LlamaToken> {
    candidates
        .selected_token()
        .ok_or_else(|| Error::MalformedOutput {
            message: "no token could be sampled (the grammar allows nothing here)".into(),
        })
}
