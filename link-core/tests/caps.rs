//! The storage caps through the engine: a write over a cap is refused with a clear error,
//! stores nothing and is audited once; under the cap it works, and deleting makes room.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use link_core::testing::{RecordingAuditSink, ScriptedChatModel, ScriptedExtractor};
use link_core::{
    AuditAction, AuditOutcome, ConversationId, ConversationStore, EngineLimits, Error, Link,
    MemoryStore, Message, PageRequest, PersonaSource, Principal, RequestContext, Rewind,
    StoreUsage,
};

struct Fixture {
    link: Link,
    model: ScriptedChatModel,
    audit: RecordingAuditSink,
    store: Arc<MemoryStore>,
}

/// An engine with these caps (the others off) and a model that always says "A.".
fn fixture(conversations: usize, messages: usize, bytes: u64) -> Fixture {
    let model = ScriptedChatModel::replying(["A."]);
    let audit = RecordingAuditSink::default();
    let store = Arc::new(MemoryStore::default());
    let limits = EngineLimits {
        max_conversations_per_user: conversations,
        max_messages_per_conversation: messages,
        max_stored_bytes_per_user: bytes,
        ..EngineLimits::default()
    };
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(model.clone()))
        .store(store.clone())
        .audit(Arc::new(audit.clone()))
        .limits(limits)
        .build()
        .unwrap();
    Fixture {
        link,
        model,
        audit,
        store,
    }
}

fn alice() -> RequestContext {
    RequestContext::new(Principal::new("alice"))
}

fn source() -> PersonaSource {
    PersonaSource::Request("Sherlock Holmes".into())
}

async fn create(f: &Fixture) -> link_core::Result<ConversationId> {
    let detail = f.link.create_conversation(&alice(), source()).await?;
    Ok(detail.conversation.id)
}

async fn messages(f: &Fixture, id: ConversationId) -> Vec<Message> {
    f.store.messages("alice", id, None).await.unwrap()
}

async fn conversation_count(f: &Fixture) -> usize {
    let page = f.store.list("alice", &PageRequest::default()).await;
    page.unwrap().items.len()
}

/// Checks that `result` is the cap refusal naming `words`, and that the audit holds exactly
/// `count` events, the last an error of `action` with the code `forbidden`.
async fn assert_refused<T: std::fmt::Debug>(
    f: &Fixture,
    result: link_core::Result<T>,
    words: &[&str],
    action: AuditAction,
    count: usize,
) {
    let err = result.expect_err("over the cap must be refused");
    let Error::Forbidden { reason } = &err else {
        panic!("expected forbidden, got {err:?}");
    };
    assert!(reason.starts_with("storage limit reached ("), "{reason}");
    for word in words {
        assert!(reason.contains(word), "{reason:?} must say {word:?}");
    }
    assert_eq!((err.code(), err.http_status()), ("forbidden", 403));
    let events = f.audit.wait_for(count).await;
    assert_eq!(events.len(), count, "one audit event per action");
    let last = events.last().unwrap();
    assert_eq!(
        (last.action, last.outcome, last.error.as_deref()),
        (action, AuditOutcome::Error, Some("forbidden"))
    );
}

#[tokio::test]
async fn the_conversation_cap_refuses_creating_and_forking_until_one_is_deleted() {
    let f = fixture(2, 0, 0);
    let first = create(&f).await.unwrap();
    create(&f).await.unwrap();
    let refused = create(&f).await;
    let words = ["conversations per user: 2 of 2", "delete conversations"];
    assert_refused(&f, refused, &words, AuditAction::CreateConversation, 3).await;
    let forked = f.link.fork(&alice(), first, None).await;
    assert_refused(&f, forked, &words, AuditAction::ForkConversation, 4).await;
    assert_eq!(
        conversation_count(&f).await,
        2,
        "nothing stored when refused"
    );

    // Another user has room of their own; deleting one of alice's makes room for her.
    let bob = RequestContext::new(Principal::new("bob"));
    f.link.create_conversation(&bob, source()).await.unwrap();
    f.link.delete_conversation(&alice(), first).await.unwrap();
    create(&f).await.unwrap();
    assert_eq!(conversation_count(&f).await, 2);
}

#[tokio::test]
async fn the_message_cap_refuses_a_turn_that_would_overflow_the_conversation() {
    // A greeting and two turns fill five messages.
    let f = fixture(0, 5, 0);
    let id = create(&f).await.unwrap();
    f.link.send(&alice(), id, "one").await.unwrap();
    f.link.send(&alice(), id, "two").await.unwrap();
    let calls = f.model.requests().len();

    let refused = f.link.send(&alice(), id, "three").await;
    let words = ["messages in this conversation: 5 of 5", "rewind"];
    assert_refused(&f, refused, &words, AuditAction::SendMessage, 4).await;
    let streamed = f.link.send_stream(&alice(), id, "three").await.map(|_| ());
    assert_refused(&f, streamed, &words, AuditAction::StreamMessage, 5).await;
    assert_eq!(
        messages(&f, id).await.len(),
        5,
        "nothing stored when refused"
    );
    assert_eq!(
        f.model.requests().len(),
        calls,
        "no model call when refused"
    );

    // A new version of the last reply adds no message: allowed at the cap.
    f.link.regenerate(&alice(), id).await.unwrap();
    // Rewinding a turn makes room for one.
    f.link.rewind(&alice(), id, Rewind::Turns(1)).await.unwrap();
    f.link.send(&alice(), id, "three").await.unwrap();
    assert_eq!(messages(&f, id).await.len(), 5);
}

#[tokio::test]
async fn the_byte_cap_refuses_writes_once_reached_until_a_conversation_is_deleted() {
    // Measure a conversation's greeting with the caps off, then cap at it plus ten bytes.
    let probe = fixture(0, 0, 0);
    let probe_id = create(&probe).await.unwrap();
    let greeting = StoreUsage::bytes_of(&messages(&probe, probe_id).await);
    let f = fixture(0, 0, greeting + 10);

    let id = create(&f).await.unwrap();
    // Ten bytes fit exactly; the reply ("A.", not known beforehand) goes over by two.
    f.link.send(&alice(), id, "0123456789").await.unwrap();
    let stored = messages(&f, id).await;
    assert_eq!(StoreUsage::bytes_of(&stored), greeting + 12);

    let cap = format!(
        "bytes of messages per user: {} of {}",
        greeting + 12,
        greeting + 10
    );
    let words = [cap.as_str(), "delete conversations"];
    let refused = f.link.send(&alice(), id, "x").await;
    assert_refused(&f, refused, &words, AuditAction::SendMessage, 3).await;
    let regenerated = f.link.regenerate(&alice(), id).await;
    assert_refused(&f, regenerated, &words, AuditAction::RegenerateReply, 4).await;
    let user = stored[1].id;
    let resent = f.link.resend(&alice(), id, user, "0123456789!").await;
    assert_refused(&f, resent, &words, AuditAction::ResendMessage, 5).await;
    let longer = f.link.edit_message(&alice(), id, user, "0123456789!").await;
    assert_refused(&f, longer, &words, AuditAction::EditMessage, 6).await;
    let second = create(&f).await;
    assert_refused(&f, second, &words, AuditAction::CreateConversation, 7).await;
    assert_eq!(
        messages(&f, id).await,
        stored,
        "nothing stored when refused"
    );
    assert_eq!(conversation_count(&f).await, 1);

    // An edit that frees bytes is allowed at the cap.
    f.link
        .edit_message(&alice(), id, user, "short")
        .await
        .unwrap();
    // Deleting the conversation frees its bytes.
    f.link.delete_conversation(&alice(), id).await.unwrap();
    let again = create(&f).await.unwrap();
    f.link.send(&alice(), again, "0123456789").await.unwrap();
}

#[tokio::test]
async fn caps_of_zero_are_off() {
    let f = fixture(0, 0, 0);
    let id = create(&f).await.unwrap();
    for turn in 0..3 {
        f.link
            .send(&alice(), id, &format!("q{turn}"))
            .await
            .unwrap();
    }
    create(&f).await.unwrap();
    assert_eq!(messages(&f, id).await.len(), 7);
}
