//! One free generation and one grammar-constrained persona extraction, with tokens per second,
//! grammar rejections and peak memory: a quick check next to the criterion bench.
//!
//! ```sh
//! cargo run -p link-local --example throughput
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use link_core::{ChatMessage, ChatModel, ChatRequest, GenerationParams, PersonaExtractor};
use link_local::{LocalConfig, LocalModel, LocalPersonaExtractor};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut config = LocalConfig::from_env().with_seed(1);
    if let Some(threads) = std::env::var("LINK_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        config = config.with_threads(threads);
    }
    let model = LocalModel::load_async(config).await.unwrap();
    let request = ChatRequest {
        system: "You are Sherlock Holmes. Stay in character.".into(),
        messages: vec![ChatMessage::user(
            "Tell me the whole story of your most famous case.",
        )],
        params: GenerationParams {
            max_tokens: Some(128),
            ..GenerationParams::default()
        },
    };
    let start = Instant::now();
    let reply = model.complete(request).await.unwrap();
    let tokens = reply.usage.unwrap().output_tokens;
    let free = tokens as f64 / start.elapsed().as_secs_f64();
    eprintln!("free: {tokens} tokens, {free:.1} tokens/s");

    let extractor = LocalPersonaExtractor::new(model.clone()).unwrap();
    let before = model.stats();
    let start = Instant::now();
    let persona = extractor.extract("Sherlock Holmes").await.unwrap();
    let after = model.stats();
    let tokens = after.tokens_generated - before.tokens_generated;
    let grammar = tokens as f64 / start.elapsed().as_secs_f64();
    eprintln!(
        "grammar: {tokens} tokens, {grammar:.1} tokens/s ({:.0}% of free), {} full-vocabulary filters",
        100.0 * grammar / free,
        after.grammar_rejections - before.grammar_rejections
    );
    eprintln!("persona: {}", serde_json::to_string(&persona).unwrap());
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ?");
    eprintln!("peak memory {peak}");
}
