//! Tokens per second of the local model, free and grammar-constrained, and peak memory: a quick
//! check next to the criterion bench.
//!
//! ```sh
//! cargo build --release -p link-local --example throughput
//! target/release/examples/throughput            # LINK_THREADS=n to override the default
//! LINK_PROMPT_STYLE=full target/release/examples/throughput   # the JSON persona grammar
//! ```
//!
//! The extraction prompt and grammar are the default extractor's: for the default (small)
//! model the character sheet; with `LINK_PROMPT_STYLE=full`, the whole persona as JSON.
//!
//! For two prompts (the persona extractor's own, and a chat prompt), a 128-token reply is
//! streamed `RUNS` times free and `RUNS` times under the persona grammar, in turns, after a
//! warm-up of each: the same prompt and length, so that the two differ only by what the
//! grammar costs. Reported: the median decoding rates (tokens after the first, over the time
//! after the first arrived: what `llama-bench` calls text generation), the median of the
//! pairs' ratios, and the time to the first token with the prompt evaluated from scratch (the
//! first warm-up; later runs find the prompt in the worker's cache). Last, whole persona
//! extractions are timed end to end, and peak memory is printed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use link_core::{
    ChatEvent, ChatMessage, ChatModel, ChatRequest, GenerationParams, PersonaExtractor,
};
use link_local::{LocalConfig, LocalModel, LocalPersonaExtractor};

const RUNS: usize = 7;
/// Tokens per timed reply.
const TOKENS: u32 = 128;

/// One streamed reply, timed.
struct Run {
    tokens: u64,
    first: Duration,
    total: Duration,
}

impl Run {
    fn decode_rate(&self) -> f64 {
        (self.tokens - 1) as f64 / (self.total - self.first).as_secs_f64()
    }
}

fn chat_request() -> ChatRequest {
    ChatRequest {
        system: "You are Sherlock Holmes. Stay in character.".into(),
        messages: vec![ChatMessage::user(
            "Tell me the whole story of your most famous case.",
        )],
        params: GenerationParams::default(),
    }
}

/// Streams `request` (under `grammar`, if any) for `TOKENS` tokens and times it.
async fn stream_once(model: &LocalModel, mut request: ChatRequest, grammar: Option<&str>) -> Run {
    request.params.max_tokens = Some(TOKENS);
    let start = Instant::now();
    let mut stream = match grammar {
        Some(grammar) => model.stream_with_grammar(request, grammar).await,
        None => model.stream(request).await,
    }
    .unwrap();
    let mut first = None;
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            ChatEvent::Delta { .. } => {
                first.get_or_insert_with(|| start.elapsed());
            }
            ChatEvent::Done { usage, .. } => {
                return Run {
                    tokens: usage.unwrap().output_tokens,
                    first: first.unwrap(),
                    total: start.elapsed(),
                };
            }
            _ => {}
        }
    }
    panic!("the stream ended without Done");
}

/// Free and constrained decoding of one request, `RUNS` of each in turns (so that a change
/// in machine speed hits both alike), after a warm-up of each.
struct Comparison {
    free: f64,
    constrained: f64,
    /// The median of the pairs' constrained/free ratios.
    ratio: f64,
    filters: u64,
    constrained_tokens: u64,
    /// The first warm-up: its first token waited for the whole prompt.
    cold: Run,
}

async fn compare(model: &LocalModel, request: &ChatRequest, grammar: &str) -> Comparison {
    let cold = stream_once(model, request.clone(), None).await;
    stream_once(model, request.clone(), Some(grammar)).await;
    let (mut free, mut constrained, mut tokens) = (Vec::new(), Vec::new(), 0);
    let filters = model.stats().grammar_rejections;
    for _ in 0..RUNS {
        free.push(
            stream_once(model, request.clone(), None)
                .await
                .decode_rate(),
        );
        let run = stream_once(model, request.clone(), Some(grammar)).await;
        constrained.push(run.decode_rate());
        tokens += run.tokens;
    }
    let ratios = free.iter().zip(&constrained).map(|(f, c)| c / f).collect();
    Comparison {
        free: median(free),
        constrained: median(constrained),
        ratio: median(ratios),
        filters: model.stats().grammar_rejections - filters,
        constrained_tokens: tokens,
        cold,
    }
}

fn report(name: &str, c: &Comparison) {
    eprintln!(
        "{name}: free {:.1} tokens/s, grammar-constrained {:.1} tokens/s: {:.0}% of free \
         (medians of {RUNS}; {} full-vocabulary filters in {} constrained tokens); first token \
         after {:.0} ms with the prompt evaluated",
        c.free,
        c.constrained,
        100.0 * c.ratio,
        c.filters,
        c.constrained_tokens,
        c.cold.first.as_secs_f64() * 1e3,
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut config = LocalConfig::from_env().with_seed(1);
    if let Some(threads) = std::env::var("LINK_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        config = config.with_threads(threads);
    }
    if std::env::var("LINK_PROMPT_STYLE").is_ok_and(|s| s == "full") {
        config = config.with_prompt_style(link_core::prompt::PromptStyle::Full);
    }
    let model = LocalModel::load_async(config).await.unwrap();
    let extractor = LocalPersonaExtractor::new(model.clone()).unwrap();
    let grammar = extractor.grammar();

    let extraction = extractor.chat_request("Sherlock Holmes");
    report(
        "extraction prompt",
        &compare(&model, &extraction, grammar).await,
    );
    // A chat prompt forced into the persona grammar: the model wants prose, so the grammar
    // rejects its choice far more often. The worst case for the sample-then-check approach.
    report(
        "chat prompt",
        &compare(&model, &chat_request(), grammar).await,
    );

    // Whole persona extractions (the instructions cached after the first).
    let mut persona = extractor.extract("Sherlock Holmes").await.unwrap();
    let mut rates = Vec::new();
    for _ in 0..RUNS {
        let tokens = model.stats().tokens_generated;
        let start = Instant::now();
        persona = extractor.extract("Sherlock Holmes").await.unwrap();
        let tokens = model.stats().tokens_generated - tokens;
        rates.push(tokens as f64 / start.elapsed().as_secs_f64());
    }
    eprintln!(
        "persona extraction: {:.1} tokens/s end to end (median of {RUNS})",
        median(rates)
    );
    eprintln!("persona: {}", serde_json::to_string(&persona).unwrap());
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ?");
    eprintln!("peak memory {peak}");
}
