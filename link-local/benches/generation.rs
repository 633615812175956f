//! Tokens per second of the local model, free and grammar-constrained, and peak memory.
//!
//! ```sh
//! cargo bench -p link-local --bench generation
//! ```
//! Each iteration's time is scaled to exactly `TOKENS` generated tokens (the model may stop a
//! little early), so criterion's "thrpt" line reads directly as tokens per second. Prompt
//! evaluation is included, as a user would see it. Peak resident memory (VmHWM) is printed
//! at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use link_core::{ChatMessage, ChatModel, ChatRequest, GenerationParams, PersonaExtractor};
use link_local::{LocalConfig, LocalModel, LocalPersonaExtractor, default_model_path};

const TOKENS: u64 = 128;

fn request() -> ChatRequest {
    ChatRequest {
        system: "You are Sherlock Holmes. Stay in character.".into(),
        messages: vec![ChatMessage::user(
            "Tell me the whole story of your most famous case.",
        )],
        params: GenerationParams {
            max_tokens: Some(TOKENS as u32),
            temperature: Some(0.7),
            ..GenerationParams::default()
        },
    }
}

/// Runs `work` `iters` times; returns its time scaled to `TOKENS` tokens per run.
fn scaled(model: &LocalModel, iters: u64, mut work: impl FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let before = model.stats().tokens_generated;
        let start = Instant::now();
        work();
        let took = start.elapsed();
        let tokens = (model.stats().tokens_generated - before).max(1);
        total += took.mul_f64(TOKENS as f64 / tokens as f64);
    }
    total
}

fn generation(c: &mut Criterion) {
    let path = default_model_path();
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup.sh",
        path.display()
    );
    let model = LocalModel::load(LocalConfig::new(path).with_seed(1)).unwrap();
    let extractor = LocalPersonaExtractor::new(model.clone()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("local_generation");
    group.throughput(Throughput::Elements(TOKENS));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("free", |b| {
        b.iter_custom(|iters| {
            scaled(&model, iters, || {
                rt.block_on(model.complete(request())).unwrap();
            })
        })
    });
    group.bench_function("persona_grammar", |b| {
        b.iter_custom(|iters| {
            scaled(&model, iters, || {
                rt.block_on(extractor.extract("Sherlock Holmes")).unwrap();
            })
        })
    });
    group.finish();
    let stats = model.stats();
    eprintln!(
        "tokens generated: {}, grammar rejections (full-vocabulary filters): {}, peak memory: {}",
        stats.tokens_generated,
        stats.grammar_rejections,
        peak_memory()
    );
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

criterion_group!(benches, generation);
criterion_main!(benches);
