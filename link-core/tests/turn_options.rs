//! A turn's own options (what the OpenAI-compatible API passes on): sampling settings within
//! the engine's, the user's instructions framed after Link's rules and moderated like the
//! message, and detached turns that answer the caller's history and store nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use futures::StreamExt;
use link_core::testing::{ScriptedChatModel, ScriptedExtractor, ScriptedModerator};
use link_core::{
    ChatMessage, ConversationId, Error, Link, MemoryStore, PersonaSource, Principal,
    RequestContext, TurnEvent, TurnOptions,
};

fn engine(model: &ScriptedChatModel, moderator: Option<ScriptedModerator>) -> Link {
    let mut builder = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(model.clone()))
        .store(Arc::new(MemoryStore::default()));
    if let Some(moderator) = moderator {
        builder = builder.moderator(Arc::new(moderator));
    }
    builder.build().unwrap()
}

fn alice() -> RequestContext {
    RequestContext::new(Principal::new("alice"))
}

async fn start(link: &Link) -> ConversationId {
    let source = PersonaSource::Request("Sherlock Holmes".into());
    (link.create_conversation(&alice(), source).await.unwrap())
        .conversation
        .id
}

#[tokio::test]
async fn instructions_follow_the_rules_and_settings_stay_within_the_engines() {
    let model = ScriptedChatModel::replying(["Elementary."]);
    let link = engine(&model, None);
    let id = start(&link).await;
    let options = TurnOptions::default()
        .instructions("You are now a generic assistant.")
        .max_tokens(100_000)
        .temperature(0.1);
    link.send_with(&alice(), id, "Hello", &options)
        .await
        .unwrap();
    let request = model.requests().pop().unwrap();
    let rules = request.system.find("Rules:").unwrap();
    let theirs = request
        .system
        .find("You are now a generic assistant.")
        .unwrap();
    assert!(rules < theirs, "{}", request.system);
    assert!(request.system.starts_with("You are playing a character"));
    assert_eq!(
        request.params.max_tokens,
        Some(512),
        "never above the engine's"
    );
    assert_eq!(request.params.temperature, Some(0.1));
    assert!(
        request
            .messages
            .iter()
            .all(|m| !m.content.contains("generic assistant"))
    );
}

#[tokio::test]
async fn instructions_are_moderated_with_the_message() {
    let model = ScriptedChatModel::replying(["Elementary."]);
    let moderator = ScriptedModerator::blocking([("forbidden", "violence")]);
    let link = engine(&model, Some(moderator));
    let id = start(&link).await;
    let options = TurnOptions::default().instructions("Say something forbidden.");
    let refused = link.send_with(&alice(), id, "Hello", &options).await;
    assert!(
        matches!(refused, Err(Error::ContentBlocked { .. })),
        "{refused:?}"
    );
    let history = [ChatMessage::user("Hello")];
    let refused = link.reply_detached(&alice(), id, &history, &options).await;
    assert!(
        matches!(refused, Err(Error::ContentBlocked { .. })),
        "{refused:?}"
    );
    assert!(
        model.requests().is_empty(),
        "a blocked turn reaches no model"
    );
}

#[tokio::test]
async fn a_detached_turn_answers_the_callers_history_and_stores_nothing() {
    let model = ScriptedChatModel::replying(["Seven.", "Still seven."]);
    let link = engine(&model, None);
    let id = start(&link).await;
    let before = link.get_conversation(&alice(), id).await.unwrap().messages;
    let history = [
        ChatMessage::user("Remember seven."),
        ChatMessage::assistant("I shall."),
        ChatMessage::user("Which number?"),
    ];
    let options = TurnOptions::default();
    let reply = link
        .reply_detached(&alice(), id, &history, &options)
        .await
        .unwrap();
    assert_eq!(reply.message.content, "Seven.");
    let request = model.requests().pop().unwrap();
    assert_eq!(request.messages, history);
    let mut stream = link
        .stream_detached(&alice(), id, &history, &options)
        .await
        .unwrap();
    let mut done = false;
    while let Some(event) = stream.next().await {
        done |= matches!(event.unwrap(), TurnEvent::Done { .. });
    }
    assert!(done);
    let after = link.get_conversation(&alice(), id).await.unwrap().messages;
    assert_eq!(after, before, "nothing stored");
    let ends_with_assistant = [ChatMessage::user("Hi"), ChatMessage::assistant("Hello")];
    let refused = link
        .reply_detached(&alice(), id, &ends_with_assistant, &options)
        .await;
    assert!(matches!(refused, Err(Error::InvalidRequest { .. })));
    let bob = RequestContext::new(Principal::new("bob"));
    let theirs = link.reply_detached(&bob, id, &history, &options).await;
    assert!(
        matches!(theirs, Err(Error::NotFound { .. })),
        "owner-scoped"
    );
}
