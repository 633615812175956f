//! The tokens the model reports are tallied per conversation and month as turns are stored,
//! and read back through `Link::token_usage`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use link_core::testing::{RecordingAuditSink, ScriptedChatModel, ScriptedExtractor, Step};
use link_core::{
    AuditAction, ConversationId, ConversationUsage, Error, Link, MemoryStore, Month, MonthUsage,
    PersonaSource, Principal, RequestContext, TokenTally, TurnEvent, Usage,
};

fn link(model: ScriptedChatModel, audit: &RecordingAuditSink) -> Link {
    Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(model))
        .store(Arc::new(MemoryStore::default()))
        .audit(Arc::new(audit.clone()))
        .build()
        .unwrap()
}

fn ctx(sub: &str) -> RequestContext {
    RequestContext::new(Principal::new(sub))
}

async fn start(link: &Link, sub: &str, character: &str) -> ConversationId {
    let source = PersonaSource::Request(character.into());
    let detail = link.create_conversation(&ctx(sub), source).await.unwrap();
    detail.conversation.id
}

fn tally(usages: &[Usage]) -> TokenTally {
    let mut tally = TokenTally::default();
    for usage in usages {
        tally.add(TokenTally::of(*usage));
    }
    tally
}

/// The usage a streamed turn reported in its `Done` event.
async fn streamed_usage(link: &Link, sub: &str, id: ConversationId, text: &str) -> Usage {
    let mut stream = link.send_stream(&ctx(sub), id, text).await.unwrap();
    let mut usage = None;
    while let Some(event) = stream.next().await {
        if let TurnEvent::Done {
            usage: reported, ..
        } = event.unwrap()
        {
            usage = reported;
        }
    }
    usage.expect("the scripted model reports usage")
}

async fn usage_of(link: &Link, sub: &str) -> MonthUsage {
    link.token_usage(&ctx(sub), Month::current()).await.unwrap()
}

#[tokio::test]
async fn turns_whole_streamed_and_regenerated_tally_up_per_conversation() {
    let audit = RecordingAuditSink::default();
    let model = ScriptedChatModel::replying([
        "One.",
        "A much longer second reply, with many more words in it.",
        "Three.",
    ]);
    let link = link(model, &audit);
    let holmes = start(&link, "alice", "Sherlock Holmes").await;
    let ada = start(&link, "alice", "Ada Lovelace").await;

    let first = link.send(&ctx("alice"), holmes, "Hello?").await.unwrap();
    let second = streamed_usage(&link, "alice", holmes, "And then?").await;
    let regenerated = link.regenerate(&ctx("alice"), ada).await.unwrap();

    let holmes_tally = tally(&[first.usage.unwrap(), second]);
    let ada_tally = tally(&[regenerated.usage.unwrap()]);
    assert_eq!(holmes_tally.calls, 2);
    assert!(holmes_tally.total_tokens() > ada_tally.total_tokens());
    let mut total = holmes_tally;
    total.add(ada_tally);
    let expected = MonthUsage {
        month: Month::current(),
        total,
        conversations: vec![
            ConversationUsage {
                conversation: holmes,
                name: Some("Sherlock Holmes".into()),
                tokens: holmes_tally,
            },
            ConversationUsage {
                conversation: ada,
                name: Some("Ada Lovelace".into()),
                tokens: ada_tally,
            },
        ],
    };
    assert_eq!(usage_of(&link, "alice").await, expected);

    // Someone else used nothing.
    let bob = usage_of(&link, "bob").await;
    assert!(bob.conversations.is_empty(), "{bob:?}");
    assert_eq!(bob.total, TokenTally::default());

    // Reading it is an action of its own, audited.
    let events = audit.wait_for(7).await;
    assert!(
        events
            .iter()
            .any(|e| e.action == AuditAction::GetTokenUsage && e.sub == "bob"),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_blocked_reply_counts_and_a_dropped_stream_does_not() {
    let audit = RecordingAuditSink::default();
    let model = ScriptedChatModel::new([
        Step::Guardrail("Sorry, I can't talk about that.".into()),
        Step::Reply("one two three four five six seven eight".into()),
    ])
    .with_chunk_delay(Duration::from_millis(30));
    let link = link(model, &audit);
    let id = start(&link, "alice", "Sherlock Holmes").await;

    let blocked = link.send(&ctx("alice"), id, "bad words").await.unwrap_err();
    assert!(
        matches!(blocked, Error::GuardrailBlocked { .. }),
        "{blocked:?}"
    );
    // The tokens the blocked call reported are in its audit event and in the tally.
    let events = audit.wait_for(2).await;
    let reported = events
        .last()
        .unwrap()
        .usage
        .expect("usage of the blocked call");
    let after_blocked = usage_of(&link, "alice").await;
    assert_eq!(after_blocked.total, TokenTally::of(reported));

    let mut stream = link
        .send_stream(&ctx("alice"), id, "Tell me.")
        .await
        .unwrap();
    assert!(matches!(
        stream.next().await.unwrap().unwrap(),
        TurnEvent::Delta { .. }
    ));
    drop(stream);
    // Wait until the cancelled stream's action is over (its partial reply is stored first).
    audit.wait_for(4).await;
    assert_eq!(
        usage_of(&link, "alice").await.total,
        after_blocked.total,
        "a stream dropped before the model reported usage adds nothing"
    );
}

#[tokio::test]
async fn a_deleted_conversation_keeps_its_tokens_without_a_name() {
    let audit = RecordingAuditSink::default();
    let link = link(ScriptedChatModel::replying(["Elementary."]), &audit);
    let id = start(&link, "alice", "Sherlock Holmes").await;
    let reply = link.send(&ctx("alice"), id, "Who did it?").await.unwrap();
    link.delete_conversation(&ctx("alice"), id).await.unwrap();

    let usage = usage_of(&link, "alice").await;
    let expected = vec![ConversationUsage {
        conversation: id,
        name: None,
        tokens: TokenTally::of(reply.usage.unwrap()),
    }];
    assert_eq!(usage.conversations, expected);
    assert_eq!(usage.total, TokenTally::of(reply.usage.unwrap()));
}
