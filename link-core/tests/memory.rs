//! Rolling memory: turns that leave the prompt's window are folded into the conversation's
//! memory by a summariser, after the reply is stored and never on its path; a failed summary
//! fails no turn and is retried; the owner reads and edits the memory and pins facts, and the
//! model always gets them as data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::StreamExt;
use link_core::testing::{RecordingAuditSink, ScriptedChatModel, ScriptedExtractor, Step};
use link_core::{
    AuditAction, AuditOutcome, ChatModel, ChatRequest, ChatResponse, ConversationId,
    ConversationMemory, ConversationPatch, Error, Link, LinkBuilder, MemorySettings, PersonaSource,
    Principal, RequestContext, Rewind, StopReason, TurnEvent, Usage,
};
use tokio::sync::{Notify, Semaphore};

fn alice() -> RequestContext {
    RequestContext::new(Principal::new("alice"))
}

fn link(
    model: &ScriptedChatModel,
    summariser: Arc<dyn ChatModel>,
    audit: &RecordingAuditSink,
) -> Link {
    builder(model, summariser, audit).build().unwrap()
}

fn builder(
    model: &ScriptedChatModel,
    summariser: Arc<dyn ChatModel>,
    audit: &RecordingAuditSink,
) -> LinkBuilder {
    Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(model.clone()))
        .summariser(summariser)
        .audit(Arc::new(audit.clone()))
}

/// A chat model with a 2048-token window, a summariser following `steps`, and an engine with
/// both and a recording audit sink, with a conversation started.
struct Chat {
    model: ScriptedChatModel,
    summariser: ScriptedChatModel,
    audit: RecordingAuditSink,
    link: Link,
    id: ConversationId,
}

async fn chat(steps: Vec<Step>) -> Chat {
    let model = ScriptedChatModel::replying(["Indeed."]).with_context_window(2048);
    let summariser = ScriptedChatModel::new(steps);
    let audit = RecordingAuditSink::default();
    let link = link(&model, Arc::new(summariser.clone()), &audit);
    let id = start(&link).await;
    Chat {
        model,
        summariser,
        audit,
        link,
        id,
    }
}

async fn start(link: &Link) -> ConversationId {
    let source = PersonaSource::Request("Sherlock Holmes".into());
    let detail = link.create_conversation(&alice(), source).await.unwrap();
    detail.conversation.id
}

/// The conversation's memory as stored.
async fn memory_of(link: &Link, id: ConversationId) -> ConversationMemory {
    let detail = link.get_conversation(&alice(), id).await.unwrap();
    detail.conversation.memory
}

/// The text between `open` and `close` in `text`.
fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).map_or(0, |at| at + open.len());
    let end = text[start..]
        .find(close)
        .map_or(text.len(), |at| start + at);
    &text[start..end]
}

/// A summariser that folds as a model is asked to: the memory so far, plus every new line
/// that asks to be remembered.
fn fold(request: &ChatRequest) -> String {
    let data = &request.messages[0].content;
    let mut memory = between(data, "<memory>\n", "\n</memory>").trim().to_owned();
    for line in between(data, "<turns>\n", "</turns>").lines() {
        if line.contains("remember") {
            memory.push('\n');
            memory.push_str(line);
        }
    }
    match memory.trim().is_empty() {
        true => "Nothing of note yet.".to_owned(),
        false => memory.trim().to_owned(),
    }
}

/// A filler message of 200 to 600 characters.
fn filler(turn: usize) -> String {
    let sentence = "The fog rolled along Baker Street again. ";
    format!("{turn}: {}", sentence.repeat(5 + turn % 10))
}

#[tokio::test]
async fn a_fact_of_turn_2_is_in_the_memory_the_model_gets_at_turn_300() {
    let Chat {
        model,
        summariser,
        audit,
        link,
        id,
    } = chat(vec![Step::Compute(fold)]).await;
    for turn in 1..=300 {
        let message = match turn {
            2 => "Please remember this: my cat is called Pixel.".to_owned(),
            _ => filler(turn),
        };
        link.send(&alice(), id, &message).await.unwrap();
        // Deterministic for the test; a real client never waits.
        link.memory_settled().await;
    }
    let last = model.requests().pop().unwrap();
    assert!(
        last.messages.iter().all(|m| !m.content.contains("Pixel")),
        "turn 2 is long out of the window"
    );
    assert!(last.system.contains("<memory>"), "{}", last.system);
    assert!(
        last.system.contains("my cat is called Pixel"),
        "{}",
        last.system
    );
    // Incremental: every summary after the first folds the one before it.
    let requests = summariser.requests();
    assert!(requests.len() > 100, "{} summaries", requests.len());
    let detail = link.get_conversation(&alice(), id).await.unwrap();
    let memory = detail.conversation.memory;
    assert!(memory.summary.contains("Pixel"));
    assert_eq!(memory.revision as usize, requests.len());
    let covered = memory.covered_through.unwrap();
    let at = detail
        .messages
        .iter()
        .position(|m| m.id == covered)
        .unwrap();
    assert!(
        at > 500,
        "covered through message {at} of {}",
        detail.messages.len()
    );
    for pair in requests.windows(2) {
        let before = between(&pair[1].messages[0].content, "<memory>\n", "\n</memory>");
        assert_eq!(
            before.trim(),
            fold(&pair[0]),
            "each summary starts from the previous one"
        );
    }
    // Each summary is audited with its model and usage, and no content is lost.
    let summaries: Vec<_> = audit
        .events()
        .into_iter()
        .filter(|e| e.action == AuditAction::SummariseMemory)
        .collect();
    assert_eq!(summaries.len(), requests.len());
    assert!(summaries.iter().all(|e| e.outcome == AuditOutcome::Ok
        && e.model.as_deref() == Some("scripted")
        && e.usage.is_some()
        && e.conversation_id == Some(id)));
}

/// A summariser that blocks until the test releases it, and says when it was entered.
#[derive(Debug)]
struct Held {
    entered: Notify,
    release: Semaphore,
    calls: AtomicUsize,
}

impl Default for Held {
    fn default() -> Self {
        Self {
            entered: Notify::new(),
            release: Semaphore::new(0),
            calls: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl ChatModel for Held {
    async fn complete(&self, request: ChatRequest) -> link_core::Result<ChatResponse> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.entered.notify_one();
        self.release.acquire().await.unwrap().forget();
        Ok(ChatResponse {
            text: fold(&request),
            stop_reason: StopReason::EndTurn,
            usage: Some(Usage::new(10, 5)),
        })
    }

    fn model_id(&self) -> String {
        "held".into()
    }
}

/// Whether the model's last request still held the greeting (nothing left the window yet).
fn greeting_kept(model: &ScriptedChatModel) -> bool {
    let last = model.requests().pop().unwrap();
    last.messages
        .iter()
        .any(|m| m.content.starts_with("Greetings!"))
}

#[tokio::test]
async fn a_reply_that_starts_a_summary_never_waits_for_it() {
    let model = ScriptedChatModel::replying(["Indeed."]).with_context_window(2048);
    let held = Arc::new(Held::default());
    let audit = RecordingAuditSink::default();
    // A summary as soon as one message leaves, so the turn that starts it is known.
    let settings = MemorySettings::default().batch_messages(1);
    let link = builder(&model, held.clone(), &audit)
        .memory(settings)
        .build()
        .unwrap();
    let id = start(&link).await;
    let long = "remember the hound on the moor. ".repeat(40);
    let mut turns = 0;
    while turns == 0 || greeting_kept(&model) {
        link.send(&alice(), id, &long).await.unwrap();
        turns += 1;
        assert!(turns < 10, "the window never filled");
    }
    // That reply is back, and the summary it started is blocked in the summariser: the
    // summariser is entered (once released it could finish), and nothing is stored yet.
    held.entered.notified().await;
    let read = link.get_conversation(&alice(), id).await.unwrap();
    assert!(read.conversation.memory.summary.is_empty());
    // More turns, whole and streamed, while it is still held: they are answered, and no
    // second job starts for the conversation.
    link.send(&alice(), id, &long).await.unwrap();
    let mut stream = link.send_stream(&alice(), id, &long).await.unwrap();
    let mut done = false;
    while let Some(event) = stream.next().await {
        done |= matches!(event.unwrap(), TurnEvent::Done { .. });
    }
    assert!(done);
    assert_eq!(held.calls.load(Ordering::SeqCst), 1);
    // Released, the summary lands; the next turn's job folds the turns that left meanwhile.
    held.release.add_permits(100);
    link.memory_settled().await;
    let first = memory_of(&link, id).await;
    assert!(first.summary.contains("hound"));
    link.send(&alice(), id, &long).await.unwrap();
    link.memory_settled().await;
    let second = memory_of(&link, id).await;
    assert_eq!(held.calls.load(Ordering::SeqCst), 2);
    assert_ne!(second.covered_through, first.covered_through);
    assert_eq!(second.revision, first.revision + 1);
}

#[tokio::test]
async fn a_failing_summariser_fails_no_turn_and_is_retried() {
    let failure = Error::provider("summariser", "overloaded").with_retryable(true);
    let Chat {
        summariser,
        audit,
        link,
        id,
        ..
    } = chat(vec![Step::Fail(failure), Step::Compute(fold)]).await;
    let long = "remember the speckled band. ".repeat(45);
    while summariser.requests().is_empty() {
        link.send(&alice(), id, &long).await.unwrap();
        link.memory_settled().await;
    }
    // The first summary failed: the turn was answered, the memory is as it was, and the
    // failure is audited.
    let memory = memory_of(&link, id).await;
    assert!(memory.summary.is_empty() && memory.covered_through.is_none());
    let failed = audit
        .events()
        .into_iter()
        .find(|e| e.action == AuditAction::SummariseMemory)
        .unwrap();
    assert_eq!(failed.outcome, AuditOutcome::Error);
    assert_eq!(
        failed.error.as_deref(),
        Some(Error::provider("x", "y").code())
    );
    // The next turn retries from where the memory was, and covers what left both times.
    link.send(&alice(), id, &long).await.unwrap();
    link.memory_settled().await;
    let requests = summariser.requests();
    assert_eq!(requests.len(), 2);
    let retried = &requests[1].messages[0].content;
    assert!(
        retried.starts_with("<memory>\n\n</memory>"),
        "{retried:.80}"
    );
    assert!(
        retried.contains("Greetings!"),
        "the retry starts at the conversation's start"
    );
    let memory = memory_of(&link, id).await;
    assert!(memory.summary.contains("speckled band"));
    assert!(memory.covered_through.is_some());
}

#[tokio::test]
async fn the_owner_edits_the_memory_and_pins_facts_the_model_always_gets() {
    let model = ScriptedChatModel::replying(["Indeed."]);
    let audit = RecordingAuditSink::default();
    let link = link(&model, Arc::new(model.clone()), &audit);
    let id = start(&link).await;
    let patch = ConversationPatch::default()
        .memory_summary("  Watson moved out last spring.  ")
        .pinned_facts(vec!["The user is called Sam.".into(), " ".into()]);
    let updated = link.update_conversation(&alice(), id, patch).await.unwrap();
    assert_eq!(updated.memory.summary, "Watson moved out last spring.");
    assert_eq!(updated.memory.pinned, ["The user is called Sam."]);
    link.send(&alice(), id, "Hello").await.unwrap();
    let system = model.requests().pop().unwrap().system;
    assert!(system.contains("Watson moved out last spring."), "{system}");
    assert!(system.contains("The user is called Sam."), "{system}");
    // Bounded, with a clear error that names the limit, and nothing changed.
    let long = ConversationPatch::default().memory_summary("x".repeat(4001));
    let err = link
        .update_conversation(&alice(), id, long)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidRequest { .. }) && err.to_string().contains("4000"),
        "{err}"
    );
    let many = ConversationPatch::default().pinned_facts(vec!["fact".into(); 21]);
    assert!(link.update_conversation(&alice(), id, many).await.is_err());
    let read = link.get_conversation(&alice(), id).await.unwrap();
    assert_eq!(read.conversation.memory, updated.memory);
    // An owner cannot pose as the summariser.
    let mut sneaky = ConversationPatch::default().memory_summary("mine");
    sneaky.expect_memory_revision = Some(999);
    let ok = link
        .update_conversation(&alice(), id, sneaky)
        .await
        .unwrap();
    assert_eq!(ok.memory.summary, "mine");
    // Another user sees none of it.
    let bob = RequestContext::new(Principal::new("bob"));
    let err = link.get_conversation(&bob, id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }));
}

#[tokio::test]
async fn a_rewind_past_the_summary_forgets_it_and_a_fork_carries_it() {
    let Chat { link, id, .. } = chat(vec![Step::Compute(fold)]).await;
    let long = "remember the red-headed league. ".repeat(40);
    for _ in 0..8 {
        link.send(&alice(), id, &long).await.unwrap();
        link.memory_settled().await;
    }
    let detail = link.get_conversation(&alice(), id).await.unwrap();
    let memory = detail.conversation.memory.clone();
    let covered = memory.covered_through.unwrap();
    // A fork through the newest message keeps the summary, on its own copy of the message.
    let fork = link.fork(&alice(), id, None).await.unwrap();
    let at = detail
        .messages
        .iter()
        .position(|m| m.id == covered)
        .unwrap();
    assert_eq!(fork.conversation.memory.summary, memory.summary);
    assert_eq!(
        fork.conversation.memory.covered_through,
        Some(fork.messages[at].id)
    );
    // A fork from before the covered message, and a rewind past it, start without it.
    let early = link
        .fork(&alice(), id, Some(detail.messages[0].id))
        .await
        .unwrap();
    assert!(early.conversation.memory.summary.is_empty());
    link.rewind(&alice(), id, Rewind::After(detail.messages[0].id))
        .await
        .unwrap();
    let rewound = memory_of(&link, id).await;
    assert!(rewound.summary.is_empty() && rewound.covered_through.is_none());
}

#[tokio::test]
async fn a_window_that_grows_back_neither_repeats_nor_forgets_the_memory() {
    let Chat {
        summariser,
        link,
        id,
        ..
    } = chat(vec![Step::Compute(fold)]).await;
    // Long turns push many messages out; short ones after them let the window reach back
    // over messages the memory already covers.
    let long = "remember the blue carbuncle. ".repeat(45);
    for turn in 0..16 {
        let text = if turn < 8 {
            long.clone()
        } else {
            format!("{turn}: short")
        };
        link.send(&alice(), id, &text).await.unwrap();
        link.memory_settled().await;
    }
    let requests = summariser.requests();
    assert!(!requests.is_empty());
    for later in &requests[1..] {
        let memory = between(&later.messages[0].content, "<memory>\n", "\n</memory>");
        assert!(
            memory.contains("carbuncle"),
            "a summary started over: {memory:.80}"
        );
    }
    let memory = memory_of(&link, id).await;
    assert!(memory.summary.contains("carbuncle"));
}
