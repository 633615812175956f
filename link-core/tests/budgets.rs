//! The engine fits every prompt to the chat model's context window: long conversations never
//! hit a wall, and a message the model cannot take is refused before any model call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use link_core::testing::{ScriptedChatModel, ScriptedExtractor};
use link_core::{
    ApproxTokenCounter, Error, Link, PersonaSource, Principal, RequestContext, TokenCounter,
};

fn link(model: &ScriptedChatModel) -> Link {
    // A summariser of its own, so the chat model's requests are the turns' alone.
    let summariser = ScriptedChatModel::replying(["The fog."]);
    Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(model.clone()))
        .summariser(Arc::new(summariser))
        .build()
        .unwrap()
}

fn alice() -> RequestContext {
    RequestContext::new(Principal::new("alice"))
}

async fn start(link: &Link) -> link_core::ConversationId {
    let source = PersonaSource::Request("Sherlock Holmes".into());
    let detail = link.create_conversation(&alice(), source).await.unwrap();
    detail.conversation.id
}

/// Every request the model received fits its window with the reply's room.
fn all_fit(model: &ScriptedChatModel, window: usize) {
    for request in model.requests() {
        let reply = request.params.max_tokens.unwrap_or(512) as usize;
        let used = ApproxTokenCounter.count_request(&request);
        assert!(used + reply <= window, "{used} + {reply} > {window}");
    }
}

#[tokio::test]
async fn a_long_conversation_with_a_small_model_never_hits_the_wall() {
    let model = ScriptedChatModel::replying(["Elementary."]).with_context_window(2048);
    let link = link(&model);
    let id = start(&link).await;
    for turn in 0..12 {
        let message = format!(
            "{turn} {}",
            "The fog on Baker Street was thick. ".repeat(43)
        );
        assert!(message.len() > 1500);
        link.send(&alice(), id, &message).await.unwrap();
    }
    // Regenerating and streaming build their prompts the same way.
    link.regenerate(&alice(), id).await.unwrap();
    let message = "And the hound? ".repeat(100);
    drop(link.send_stream(&alice(), id, &message).await.unwrap());
    assert_eq!(model.requests().len(), 14);
    all_fit(&model, 2048);
}

#[tokio::test]
async fn a_message_the_model_cannot_take_is_refused_before_any_call() {
    let model = ScriptedChatModel::replying(["Elementary."]).with_context_window(2048);
    let link = link(&model);
    // The limit follows the model: 2048 tokens less 512 for the reply, at most 4 bytes each.
    assert_eq!(link.max_message_chars(), 1536 * 4);
    let id = start(&link).await;
    let refused = link.send(&alice(), id, &"word ".repeat(1400)).await;
    assert_eq!(
        refused.unwrap_err(),
        Error::MessageTooLong { max_chars: 6144 }
    );
    // Under that bound, the exact fit names what would fit with this persona.
    let refused = link.send(&alice(), id, &"word ".repeat(1200)).await;
    let Err(Error::MessageTooLong { max_chars }) = refused else {
        panic!("{refused:?}");
    };
    assert!((4000..6000).contains(&max_chars), "{max_chars}");
    assert!(model.requests().is_empty(), "no model call");
    // The error is a 422 that names the limit.
    let error = Error::MessageTooLong { max_chars };
    assert_eq!(error.http_status(), 422);
    assert!(error.to_string().contains(&max_chars.to_string()));
    // A message of that length goes through.
    link.send(&alice(), id, &"w".repeat(max_chars))
        .await
        .unwrap();
    all_fit(&model, 2048);
}

#[tokio::test]
async fn a_wide_model_keeps_the_configured_limit() {
    let model = ScriptedChatModel::replying(["Elementary."]).with_context_window(128_000);
    assert_eq!(link(&model).max_message_chars(), 8000);
}
