//! The in-crate implementations pass the suites every adapter runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use link_core::MemoryStore;
use link_core::testing::{ScriptedChatModel, ScriptedExtractor, conformance};

#[tokio::test]
async fn memory_store_conforms() {
    conformance::conversation_store(&MemoryStore::default()).await;
}

#[tokio::test]
async fn scripted_model_conforms() {
    let model = ScriptedChatModel::replying(["Elementary, my dear Watson."]);
    conformance::chat_model(&model).await;
    assert_eq!(model.live_streams(), 0);
}

#[tokio::test]
async fn scripted_extractor_conforms() {
    let persona =
        conformance::persona_extractor(&ScriptedExtractor::default(), "Sherlock Holmes").await;
    assert_eq!(persona.name, "Sherlock Holmes");
}

#[tokio::test]
#[should_panic(expected = "complete returned empty text")]
async fn the_chat_suite_catches_a_silent_model() {
    conformance::chat_model(&ScriptedChatModel::replying([" "])).await;
}
