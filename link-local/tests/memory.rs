//! Rolling memory with the real local model: a 200-turn conversation with messages of 200 to
//! 1,500 characters never gets an error for length, and the turns that left the window are
//! summarised into the memory by the same model (few generated tokens, to keep the test
//! short: it is about the prompt and the memory, not the prose).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use link_core::testing::ScriptedExtractor;
use link_core::{
    ChatModel, GenerationParams, Link, MemorySettings, PersonaSource, Principal, PromptBuilder,
    RequestContext,
};

fn alice() -> RequestContext {
    RequestContext::new(Principal::new("alice"))
}

/// A message of 200 to 1,500 characters, its length varying from turn to turn.
fn message(turn: usize) -> String {
    let line = "I walked along Baker Street in the fog, thinking of the case. ";
    let chars = 200 + (turn * 389) % 1301;
    let mut text = format!("{turn}: {}", line.repeat(chars / line.len() + 1));
    text.truncate(chars);
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long (5 to 20 minutes on 2 cores): run by scripts/long-tests.sh"]
async fn two_hundred_turns_never_error_for_length_and_fill_the_memory() {
    let _serial = common::SERIAL.lock().await;
    // A 1024-token window: the wall comes after two or three turns, and each turn evaluates
    // half what the default 2048 would (the test runs 200 of them).
    let model: Arc<dyn ChatModel> = Arc::new(common::load(|c| c.with_context_tokens(1024)).await);
    let params = GenerationParams {
        max_tokens: Some(4),
        temperature: Some(0.0),
        ..GenerationParams::default()
    };
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(model.clone())
        .prompt(PromptBuilder::default().params(params))
        .memory(
            MemorySettings::default()
                .summary_tokens(24)
                .batch_messages(12),
        )
        .build()
        .unwrap();
    let source = PersonaSource::Request("Sherlock Holmes".into());
    let id = link
        .create_conversation(&alice(), source)
        .await
        .unwrap()
        .conversation
        .id;
    for turn in 0..200 {
        let text = message(turn);
        assert!((200..=1500).contains(&text.chars().count()));
        let reply = link
            .send(&alice(), id, &text)
            .await
            .unwrap_or_else(|e| panic!("turn {turn}: {e}"));
        let input = reply.usage.unwrap().input_tokens;
        assert!(input + 4 <= 1024, "turn {turn}: {input} prompt tokens");
    }
    link.memory_settled().await;
    let detail = link.get_conversation(&alice(), id).await.unwrap();
    let memory = detail.conversation.memory;
    assert!(!memory.summary.is_empty(), "{memory:?}");
    let covered = memory.covered_through.unwrap();
    let at = detail
        .messages
        .iter()
        .position(|m| m.id == covered)
        .unwrap();
    assert!(
        at > 300,
        "the memory covers through message {at} of {}",
        detail.messages.len()
    );
}
