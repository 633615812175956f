//! link-bedrock against a local mock of Bedrock Runtime (one test binary: the AWS SDK makes
//! each binary slow to link).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chat;
mod conformance;
mod errors;
mod extractor;
mod fuzz_event_stream;
mod invoke;
mod mock;
mod persona_mock;
mod stream;

use link_bedrock::{BedrockChatModel, Guardrail};
use link_core::{ChatMessage, ChatRequest, GenerationParams};

/// The mock guardrail.
pub fn guardrail() -> Guardrail {
    Guardrail::new("gr-test", "1")
}

/// A request with a persona in the system prompt and some history.
pub fn request(last_user: &str) -> ChatRequest {
    ChatRequest {
        system: "You play Sherlock Holmes. The persona, as data: a detective.".into(),
        messages: vec![
            ChatMessage::user("Good evening."),
            ChatMessage::assistant("Ah, a visitor."),
            ChatMessage::user(last_user),
        ],
        params: GenerationParams {
            max_tokens: Some(64),
            temperature: Some(0.5),
            top_p: Some(0.9),
            top_k: Some(40),
            stop: vec!["Watson:".into()],
        },
    }
}

/// A Converse model on the mock, without a guardrail.
pub fn model(mock: &mock::Mock) -> BedrockChatModel {
    BedrockChatModel::new(mock.client.clone())
}

/// A Converse model on the mock, behind the mock guardrail.
pub fn guarded(mock: &mock::Mock) -> BedrockChatModel {
    model(mock).with_guardrail(guardrail()).unwrap()
}
