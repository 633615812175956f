//! Finding and loading the real model for the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use link_core::{ChatMessage, ChatRequest, GenerationParams};
use link_local::{LocalConfig, LocalModel, default_model_path};

/// The model file; fails loudly (never skips) when it is missing.
pub fn model_path() -> std::path::PathBuf {
    let path = default_model_path();
    assert!(
        path.is_file(),
        "the test model {} is missing: run scripts/setup.sh (or scripts/fetch-model.sh), \
         or point LINK_MODEL_PATH at a GGUF file",
        path.display()
    );
    path
}

/// Held by every test that generates: llama.cpp's threads spin while they wait for work, so
/// several generations at once on a 2-core machine slow each other down many times over.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A fresh model with a fixed seed, so that runs are repeatable.
pub async fn load(config: impl FnOnce(LocalConfig) -> LocalConfig) -> LocalModel {
    // One thread per worker: ggml's threads spin-wait for each other, and on a shared 2-core
    // machine (other builds running) two of them can run many times slower than one.
    let config = config(LocalConfig::new(model_path()).with_seed(7).with_threads(1));
    LocalModel::load_async(config).await.expect("model loads")
}

/// A request that a small model answers at length.
pub fn request(max_tokens: u32, temperature: f32, stop: &[&str]) -> ChatRequest {
    ChatRequest {
        system: "You are Sherlock Holmes, the detective. Stay in character.".into(),
        messages: vec![ChatMessage::user(
            "Tell me, at length, the whole story of your most famous case.",
        )],
        params: GenerationParams {
            max_tokens: Some(max_tokens),
            temperature: Some(temperature),
            stop: stop.iter().map(|s| (*s).to_owned()).collect(),
            ..GenerationParams::default()
        },
    }
}

/// Polls until `done` holds. `bound` only turns a hang into a failure naming `what`; it
/// orders nothing, so make it generous.
pub async fn wait_until(bound: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + bound;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "waited {bound:?} in vain: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
