//! The engine with the real local model (2048-token window): long conversations never hit
//! the wall, the model's counter is exact, and a message it cannot take is refused up front.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use link_core::testing::ScriptedExtractor;
use link_core::{
    ChatModel, Error, GenerationParams, Link, PersonaSource, Principal, PromptBuilder,
    RequestContext,
};

use common::{load, request};

fn alice() -> RequestContext {
    RequestContext::new(Principal::new("alice"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counter_counts_what_the_model_evaluates() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c).await;
    assert_eq!(model.context_window(), 2048);
    let request = request(1, 0.0, &[]);
    let counted = model.token_counter().count_request(&request);
    let reply = model.complete(request).await.unwrap();
    assert_eq!(counted as u64, reply.usage.unwrap().input_tokens);
    assert!(model.token_counter().count("Hello there") >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_conversation_never_errors_for_length() {
    let _serial = common::SERIAL.lock().await;
    let model: Arc<dyn ChatModel> = Arc::new(load(|c| c).await);
    let engine = |params: Option<GenerationParams>| {
        let prompt = match params {
            Some(params) => PromptBuilder::default().params(params),
            None => PromptBuilder::default(),
        };
        Link::builder()
            .extractor(Arc::new(ScriptedExtractor::default()))
            .chat_model(model.clone())
            .prompt(prompt)
            .build()
            .unwrap()
    };
    // Few generated tokens: the test is about the prompt, and each turn evaluates ~2000.
    let link = engine(Some(GenerationParams {
        max_tokens: Some(4),
        temperature: Some(0.0),
        ..GenerationParams::default()
    }));
    let source = PersonaSource::Request("Sherlock Holmes".into());
    let id = link
        .create_conversation(&alice(), source)
        .await
        .unwrap()
        .conversation
        .id;
    // Messages of 1,500 characters: from the fifth on, the history overflows 2048 tokens.
    // (Measured: 16 turns all pass too, in two minutes; 7 keep the test short.)
    let line = "I walked along Baker Street in the fog, thinking of the case. ";
    for turn in 0..7 {
        let message = format!("{turn}: {}", line.repeat(25));
        assert!(message.len() >= 1500);
        let reply = link
            .send(&alice(), id, &message)
            .await
            .unwrap_or_else(|e| panic!("turn {turn}: {e}"));
        let input = reply.usage.unwrap().input_tokens;
        assert!(input + 4 <= 2048, "turn {turn}: {input} prompt tokens");
    }
    // The turns that left the window are being summarised on the model's worker: the process
    // must not exit (tearing llama.cpp down) while a summary decodes.
    link.memory_settled().await;
    // With the default room for the reply (512 tokens), a 7,000-character message is refused
    // before any model call (before the conversation is even read: this engine has its own
    // empty store), naming the characters that fit.
    let refused = engine(None).send(&alice(), id, &line.repeat(113)).await;
    assert_eq!(
        refused.unwrap_err(),
        Error::MessageTooLong { max_chars: 6144 }
    );
}
