//! Conformance suites: behaviour every adapter of a port must show, as async functions taking
//! `&dyn Trait`. Each panics with a message naming the broken rule.
//!
//! ```no_run
//! # async fn demo(model: &dyn link_core::ChatModel) {
//! link_core::testing::conformance::chat_model(model).await;
//! # }
//! ```

// These suites are assertions: a broken rule must panic with its message, like any test.
#![allow(clippy::expect_used)]

use futures::StreamExt;

use crate::{
    ChatEvent, ChatModel, ChatRequest, Conversation, ConversationId, ConversationStore, Error,
    GenerationParams, Message, Persona, PersonaExtractor, PersonaKind, PromptBuilder, Role,
    StopReason, Usage,
};

fn sample_request() -> ChatRequest {
    let persona = Persona::new(
        "Sherlock Holmes",
        PersonaKind::Fictional,
        "The consulting detective of 221B Baker Street.",
        "Ah, a visitor.",
    );
    let history = [
        Message::new(Role::Assistant, "Ah, a visitor."),
        Message::new(
            Role::User,
            "Good evening, Mr Holmes. What are you working on?",
        ),
    ];
    let mut request = PromptBuilder::default().build(&persona, &history);
    request.params = GenerationParams {
        max_tokens: Some(48),
        temperature: Some(0.7),
        ..GenerationParams::default()
    };
    request
}

fn check_usage(usage: Option<Usage>) {
    if let Some(usage) = usage {
        assert!(
            usage.total_tokens >= usage.output_tokens,
            "usage total {} is below output {}",
            usage.total_tokens,
            usage.output_tokens
        );
    }
}

/// A [`ChatModel`] answers whole and streamed; a stream is deltas then exactly one done
/// event, last; dropping a stream early is safe and leaves the model usable.
pub async fn chat_model(model: &dyn ChatModel) {
    assert!(!model.model_id().is_empty(), "model_id is empty");

    let whole = model
        .complete(sample_request())
        .await
        .expect("complete failed");
    assert!(
        !whole.text.trim().is_empty(),
        "complete returned empty text"
    );
    assert_ne!(
        whole.stop_reason,
        StopReason::Cancelled,
        "complete reported cancelled"
    );
    check_usage(whole.usage);

    let events: Vec<ChatEvent> = model
        .stream(sample_request())
        .await
        .expect("stream failed to start")
        .map(|event| event.expect("stream failed mid-way"))
        .collect()
        .await;
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Delta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(!text.trim().is_empty(), "stream produced no text");
    let dones: Vec<&ChatEvent> = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Done { .. }))
        .collect();
    assert_eq!(
        dones.len(),
        1,
        "stream must end with exactly one done event"
    );
    let Some(ChatEvent::Done { usage, .. }) = events.last() else {
        panic!("the done event must be the last event");
    };
    check_usage(*usage);

    let mut early = model
        .stream(sample_request())
        .await
        .expect("stream failed to start");
    let first = early.next().await;
    assert!(first.is_some(), "stream ended with no event");
    drop(early);

    let again = model
        .complete(sample_request())
        .await
        .expect("model unusable after a dropped stream");
    assert!(
        !again.text.trim().is_empty(),
        "complete after a dropped stream returned empty text"
    );
}

/// A [`PersonaExtractor`] turns `request` into a persona that, once normalised, validates.
pub async fn persona_extractor(extractor: &dyn PersonaExtractor, request: &str) -> Persona {
    assert!(!extractor.model_id().is_empty(), "model_id is empty");
    let persona = extractor
        .extract(request)
        .await
        .expect("extraction failed")
        .normalized();
    if let Err(e) = persona.validate() {
        panic!("extracted persona does not validate: {e}");
    }
    persona
}

fn conversation(owner: &str, name: &str) -> Conversation {
    let persona = Persona::new(
        name,
        PersonaKind::Original,
        "A test character. ✨",
        "Hello! 👋",
    );
    Conversation::new(owner, persona)
}

/// A [`ConversationStore`] keeps conversations and messages exactly, scoped to their owner.
pub async fn conversation_store(store: &dyn ConversationStore) {
    store.ping().await.expect("ping failed");
    let alice = format!("alice-{}", ConversationId::new());
    let bob = format!("bob-{}", ConversationId::new());

    let first = conversation(&alice, "First");
    let greeting = Message::new(Role::Assistant, "Hello! 👋");
    store
        .create(&first, std::slice::from_ref(&greeting))
        .await
        .expect("create failed");
    assert_eq!(
        store.get(&alice, first.id).await.expect("get failed"),
        Some(first.clone()),
        "a conversation must read back exactly"
    );
    assert_eq!(
        store.get(&bob, first.id).await.expect("get failed"),
        None,
        "owner scoping on get"
    );
    assert!(
        store.create(&first, &[]).await.is_err(),
        "a duplicate id must be refused"
    );

    let second = conversation(&alice, "Second");
    store.create(&second, &[]).await.expect("create failed");
    let turn = [
        Message::new(Role::User, "and then?"),
        Message::new(Role::Assistant, "and then, this."),
    ];
    store
        .append_all(&alice, second.id, &turn)
        .await
        .expect("append_all failed");
    assert_eq!(
        store
            .messages(&alice, second.id, None)
            .await
            .expect("messages failed"),
        turn,
        "append_all keeps the order"
    );
    assert!(
        matches!(
            store.append_all(&bob, second.id, &turn).await,
            Err(Error::NotFound { .. })
        ),
        "append_all to another owner's conversation is not found"
    );

    let user = Message::new(Role::User, "line one\nline two, \"quoted\" and 'single'");
    let reply = Message::new(Role::Assistant, "Reply with ünïcödé");
    store
        .append(&alice, first.id, &user)
        .await
        .expect("append failed");
    store
        .append(&alice, first.id, &reply)
        .await
        .expect("append failed");

    let all = store
        .messages(&alice, first.id, None)
        .await
        .expect("messages failed");
    assert_eq!(
        all,
        vec![greeting.clone(), user.clone(), reply.clone()],
        "messages in order, exact"
    );
    let last = store
        .messages(&alice, first.id, Some(2))
        .await
        .expect("messages failed");
    assert_eq!(
        last,
        vec![user, reply.clone()],
        "`last` keeps the newest, oldest first"
    );

    let list = store.list(&alice).await.expect("list failed");
    let ids: Vec<ConversationId> = list.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        vec![first.id, second.id],
        "list is most recently updated first"
    );
    assert!(
        list[0].updated_at >= reply.created_at,
        "append bumps updated_at"
    );
    assert!(
        store.list(&bob).await.expect("list failed").is_empty(),
        "owner scoping on list"
    );

    let intruder = Message::new(Role::User, "let me in");
    assert!(
        matches!(
            store.append(&bob, first.id, &intruder).await,
            Err(Error::NotFound { .. })
        ),
        "append to another owner's conversation is not found"
    );
    assert!(
        matches!(
            store.messages(&bob, first.id, None).await,
            Err(Error::NotFound { .. })
        ),
        "messages of another owner's conversation are not found"
    );
    let missing = ConversationId::new();
    assert!(
        matches!(
            store.append(&alice, missing, &intruder).await,
            Err(Error::NotFound { .. })
        ),
        "append to a missing conversation is not found"
    );

    assert!(
        !store.delete(&bob, first.id).await.expect("delete failed"),
        "owner scoping on delete"
    );
    assert!(store.delete(&alice, first.id).await.expect("delete failed"));
    assert!(
        !store.delete(&alice, first.id).await.expect("delete failed"),
        "delete twice"
    );
    assert_eq!(store.get(&alice, first.id).await.expect("get failed"), None);
    assert!(
        matches!(
            store.messages(&alice, first.id, None).await,
            Err(Error::NotFound { .. })
        ),
        "messages go with their conversation"
    );
}
