//! The engine through its public API, with the scripted model, mocks and real sinks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use link_core::testing::{
    MockRateLimiter, RecordingAuditSink, ScriptedChatModel, ScriptedExtractor, Step,
};
use link_core::{
    AuditAction, AuditOutcome, ContentPolicy, Error, Link, MemoryStore, PageRequest, Persona,
    PersonaKind, PersonaSource, Principal, RateDecision, RequestContext, Role, StopReason,
    TurnEvent, WriterAuditSink,
};

struct Fixture {
    link: Link,
    model: ScriptedChatModel,
    audit: RecordingAuditSink,
}

fn fixture(model: ScriptedChatModel) -> Fixture {
    let audit = RecordingAuditSink::default();
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(model.clone()))
        .store(Arc::new(MemoryStore::default()))
        .audit(Arc::new(audit.clone()))
        .build()
        .unwrap();
    Fixture { link, model, audit }
}

fn ctx(sub: &str) -> RequestContext {
    RequestContext::new(Principal::new(sub))
}

async fn start(link: &Link, sub: &str) -> link_core::ConversationId {
    let source = PersonaSource::Request("Sherlock Holmes".into());
    let detail = link.create_conversation(&ctx(sub), source).await.unwrap();
    detail.conversation.id
}

#[tokio::test]
async fn persona_then_three_turns_then_history_reads_back() {
    let f = fixture(ScriptedChatModel::replying(["One.", "Two.", "Three."]));
    let alice = ctx("alice");
    let detail = f
        .link
        .create_conversation(&alice, PersonaSource::Request("Sherlock Holmes".into()))
        .await
        .unwrap();
    assert_eq!(detail.conversation.persona.name, "Sherlock Holmes");
    assert_eq!(detail.messages.len(), 1);
    assert_eq!(detail.messages[0].role, Role::Assistant);
    assert_eq!(
        detail.messages[0].content,
        detail.conversation.persona.greeting
    );

    let id = detail.conversation.id;
    for (question, answer) in [("a?", "One."), ("b?", "Two."), ("c?", "Three.")] {
        let reply = f.link.send(&alice, id, question).await.unwrap();
        assert_eq!(reply.message.content, answer);
        assert_eq!(reply.stop_reason, StopReason::EndTurn);
        assert!(reply.usage.is_some());
    }

    let history = f.link.get_conversation(&alice, id).await.unwrap().messages;
    let texts: Vec<(Role, &str)> = history
        .iter()
        .map(|m| (m.role, m.content.as_str()))
        .collect();
    let greeting = detail.conversation.persona.greeting.as_str();
    assert_eq!(
        texts,
        [
            (Role::Assistant, greeting),
            (Role::User, "a?"),
            (Role::Assistant, "One."),
            (Role::User, "b?"),
            (Role::Assistant, "Two."),
            (Role::User, "c?"),
            (Role::Assistant, "Three."),
        ]
    );

    // The model saw the persona in the system prompt and the history in order.
    let last = f.model.requests().pop().unwrap();
    assert!(last.system.contains("Sherlock Holmes"));
    assert_eq!(last.messages.last().unwrap().content, "c?");
    assert_eq!(
        last.messages.len(),
        7,
        "opening turn + greeting + 2 exchanges + question"
    );

    // One audit event per action: create + three sends + one get.
    let events = f.audit.events();
    let actions: Vec<AuditAction> = events.iter().map(|e| e.action).collect();
    assert_eq!(actions.len(), 5);
    assert_eq!(actions[0], AuditAction::CreateConversation);
    assert!(
        events
            .iter()
            .all(|e| e.outcome == AuditOutcome::Ok && e.sub == "alice")
    );
    assert_eq!(events[1].model.as_deref(), Some("scripted"));
    assert_eq!(events[1].prompt.as_deref(), Some("a?"));
    assert_eq!(events[1].response.as_deref(), Some("One."));

    let newest = f.link.get_conversation_last(&alice, id, 2).await.unwrap();
    let newest: Vec<&str> = newest.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(newest, ["c?", "Three."], "the newest two, oldest first");
}

#[tokio::test]
async fn streaming_yields_deltas_then_done_and_stores_the_reply() {
    let f = fixture(ScriptedChatModel::replying([
        "It is elementary, my friend.",
    ]));
    let id = start(&f.link, "alice").await;
    let mut stream = f.link.send_stream(&ctx("alice"), id, "How?").await.unwrap();
    let mut deltas = Vec::new();
    let mut done = None;
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            TurnEvent::Delta { text } => {
                assert!(done.is_none(), "delta after done");
                deltas.push(text);
            }
            TurnEvent::Done {
                message,
                stop_reason,
                usage,
            } => {
                done = Some((message, stop_reason, usage));
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert!(deltas.len() > 1, "expected several deltas, got {deltas:?}");
    let (message, stop_reason, usage) = done.expect("no done event");
    assert_eq!(deltas.concat(), "It is elementary, my friend.");
    assert_eq!(message.content, deltas.concat());
    assert_eq!(stop_reason, StopReason::EndTurn);
    assert!(usage.is_some());

    let history = f
        .link
        .get_conversation(&ctx("alice"), id)
        .await
        .unwrap()
        .messages;
    assert_eq!(history.last().unwrap().id, message.id);
    let events = f.audit.wait_for(3).await;
    assert_eq!(events[1].action, AuditAction::StreamMessage);
    assert_eq!(events[1].outcome, AuditOutcome::Ok);
}

#[tokio::test]
async fn a_dropped_stream_stops_the_model_keeps_the_partial_reply_and_is_audited() {
    let model = ScriptedChatModel::replying(["one two three four five six seven eight"])
        .with_chunk_delay(Duration::from_millis(30));
    let f = fixture(model);
    let id = start(&f.link, "alice").await;
    let mut stream = f
        .link
        .send_stream(&ctx("alice"), id, "Tell me.")
        .await
        .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(
        first,
        TurnEvent::Delta {
            text: "one ".into()
        }
    );
    assert_eq!(f.model.live_streams(), 1);
    drop(stream);

    let events = f.audit.wait_for(2).await;
    let cancelled = events.last().unwrap();
    assert_eq!(cancelled.action, AuditAction::StreamMessage);
    assert_eq!(cancelled.outcome, AuditOutcome::Cancelled);
    assert_eq!(cancelled.conversation_id, Some(id));
    assert_eq!(
        f.model.live_streams(),
        0,
        "the model stream must be dropped"
    );

    let history = f
        .link
        .get_conversation(&ctx("alice"), id)
        .await
        .unwrap()
        .messages;
    assert_eq!(history[1].content, "Tell me.");
    assert_eq!(history[1].role, Role::User);
    let partial = &history[2];
    assert_eq!(partial.role, Role::Assistant);
    assert!(partial.content.starts_with("one "), "{partial:?}");
    assert!(partial.content.len() < "one two three four five six seven eight".len());
}

#[tokio::test]
async fn a_dropped_whole_reply_is_audited_as_cancelled() {
    let model = ScriptedChatModel::new([Step::Reply("slow".into())])
        .with_chunk_delay(Duration::from_secs(5));
    let f = fixture(model);
    let id = start(&f.link, "alice").await;
    let alice = ctx("alice");
    let send = f.link.send(&alice, id, "hello");
    // The caller gives up while the model is still thinking: the future is dropped.
    let gave_up = tokio::time::timeout(Duration::from_millis(20), send).await;
    assert!(gave_up.is_err());
    let events = f.audit.wait_for(2).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].action, AuditAction::SendMessage);
    assert_eq!(events[1].outcome, AuditOutcome::Cancelled);
}

/// A limiter allowing `quota` requests per user, as a mock.
fn quota_limiter(quota: u32) -> MockRateLimiter {
    let counts: Mutex<HashMap<String, u32>> = Mutex::default();
    let mut limiter = MockRateLimiter::new();
    limiter.expect_check().returning(move |principal| {
        let mut counts = counts.lock().unwrap();
        let used = counts.entry(principal.sub.clone()).or_default();
        *used += 1;
        if *used <= quota {
            RateDecision::Allowed {
                limit: quota,
                remaining: quota - *used,
            }
        } else {
            RateDecision::Denied {
                limit: quota,
                retry_after: Duration::from_secs(3),
            }
        }
    });
    limiter
}

#[tokio::test]
async fn the_26th_request_in_a_minute_is_denied_while_another_user_passes() {
    let audit = RecordingAuditSink::default();
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(ScriptedChatModel::replying(["ok"])))
        .rate_limiter(Arc::new(quota_limiter(25)))
        .audit(Arc::new(audit.clone()))
        .build()
        .unwrap();
    let id = start(&link, "alice").await;
    for _ in 0..24 {
        link.send(&ctx("alice"), id, "hi").await.unwrap();
    }
    let denied_ctx = ctx("alice");
    let denied = link.send(&denied_ctx, id, "hi").await.unwrap_err();
    assert_eq!(
        denied,
        Error::RateLimited {
            retry_after: Duration::from_secs(3)
        }
    );
    let admitted = ctx("alice").admitted(RateDecision::Denied {
        limit: 25,
        retry_after: Duration::from_secs(3),
    });
    assert!(
        matches!(
            link.send(&admitted, id, "hi").await,
            Err(Error::RateLimited { .. })
        ),
        "a denial the transport handed in is enforced"
    );
    assert!(
        link.list_conversations(&ctx("alice"), &PageRequest::default())
            .await
            .is_err(),
        "every action is limited"
    );
    link.list_conversations(&ctx("bob"), &PageRequest::default())
        .await
        .unwrap();

    let events = audit.events();
    assert_eq!(events.len(), 29);
    assert_eq!(events[25].outcome, AuditOutcome::RateLimited);
    assert_eq!(events[25].error, None);
    assert_eq!(events[26].outcome, AuditOutcome::RateLimited);
    assert_eq!(events[28].sub, "bob");
    assert_eq!(events[28].outcome, AuditOutcome::Ok);
}

#[tokio::test]
async fn another_user_can_neither_read_write_nor_delete_a_conversation() {
    let f = fixture(ScriptedChatModel::replying(["mine"]));
    let id = start(&f.link, "alice").await;
    let bob = ctx("bob");
    let not_found = |r: Result<(), Error>| matches!(r, Err(Error::NotFound { .. }));
    assert!(not_found(
        f.link.get_conversation(&bob, id).await.map(|_| ())
    ));
    assert!(not_found(
        f.link.send(&bob, id, "let me in").await.map(|_| ())
    ));
    assert!(not_found(
        f.link.send_stream(&bob, id, "let me in").await.map(|_| ())
    ));
    assert!(not_found(f.link.delete_conversation(&bob, id).await));
    assert!(
        f.link
            .list_conversations(&bob, &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        f.model.requests().is_empty(),
        "the model was never called for bob"
    );

    let alice = ctx("alice");
    assert_eq!(
        f.link
            .get_conversation(&alice, id)
            .await
            .unwrap()
            .messages
            .len(),
        1
    );
    f.link.delete_conversation(&alice, id).await.unwrap();
    assert!(not_found(
        f.link.get_conversation(&alice, id).await.map(|_| ())
    ));
    let errors: Vec<_> = f
        .audit
        .events()
        .iter()
        .filter_map(|e| e.error.clone())
        .collect();
    assert!(errors.iter().all(|code| code == "not_found"), "{errors:?}");
}

#[tokio::test]
async fn an_invalid_persona_is_rejected_with_every_problem_named() {
    let bad = Persona::new("", PersonaKind::Original, "x".repeat(5000), "");
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::returning(bad.clone())))
        .chat_model(Arc::new(ScriptedChatModel::replying(["-"])))
        .build()
        .unwrap();
    let err = link
        .create_conversation(&ctx("alice"), PersonaSource::Request("nobody".into()))
        .await
        .unwrap_err();
    let Error::InvalidPersona { problems } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(err.to_string().contains("name is empty"));
    let given = PersonaSource::Persona(Box::new(bad));
    let err = link
        .create_conversation(&ctx("alice"), given)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidPersona { .. }));
    assert!(
        link.list_conversations(&ctx("alice"), &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn bad_messages_and_upstream_failures_are_clear_errors_and_store_nothing() {
    let upstream = Error::Provider {
        provider: "scripted".into(),
        status: Some(503),
        message: "overloaded".into(),
        retryable: true,
        retry_after: None,
        body: None,
    };
    let model = ScriptedChatModel::new([
        Step::Fail(upstream.clone()),
        Step::Guardrail("Sorry, I can't talk about that.".into()),
        Step::FailMidStream("half a ".into(), upstream.clone()),
    ]);
    let f = fixture(model);
    let id = start(&f.link, "alice").await;
    let alice = ctx("alice");
    assert!(matches!(
        f.link.send(&alice, id, "   ").await,
        Err(Error::InvalidRequest { .. })
    ));
    let long = "x".repeat(8001);
    assert_eq!(
        f.link.send(&alice, id, &long).await.unwrap_err(),
        Error::MessageTooLong { max_chars: 8000 }
    );
    assert_eq!(f.link.send(&alice, id, "hi").await.unwrap_err(), upstream);
    let blocked = f.link.send(&alice, id, "bad words").await.unwrap_err();
    assert_eq!(
        blocked,
        Error::GuardrailBlocked {
            message: "Sorry, I can't talk about that.".into()
        }
    );
    let mut stream = f.link.send_stream(&alice, id, "go on").await.unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        TurnEvent::Delta {
            text: "half ".into()
        }
    );
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        TurnEvent::Delta { text: "a ".into() }
    );
    assert_eq!(stream.next().await.unwrap().unwrap_err(), upstream);
    assert!(stream.next().await.is_none());

    let history = f.link.get_conversation(&alice, id).await.unwrap().messages;
    assert_eq!(history.len(), 1, "failed turns store nothing: {history:?}");
    let codes: Vec<Option<String>> = f
        .audit
        .wait_for(7)
        .await
        .iter()
        .map(|e| e.error.clone())
        .collect();
    let expected = [
        None,
        Some("invalid_request"),
        Some("message_too_long"),
        Some("upstream_error"),
        Some("guardrail_blocked"),
        Some("upstream_error"),
        None,
    ];
    assert_eq!(codes, expected.map(|c| c.map(str::to_owned)));
}

#[tokio::test]
async fn the_router_creates_then_chats() {
    let f = fixture(ScriptedChatModel::replying(["Indeed."]));
    let alice = ctx("alice");
    let created = f.link.chat(&alice, "Sherlock Holmes", None).await.unwrap();
    assert_eq!(created.persona.name, "Sherlock Holmes");
    assert_eq!(created.completion, created.persona.greeting);
    let id = created.conversation_id;
    let reply = f
        .link
        .chat(&alice, "What is the case?", Some(id))
        .await
        .unwrap();
    assert_eq!(reply.completion, "Indeed.");
    assert_eq!(reply.conversation_id, id);
    let switched = f
        .link
        .chat(&alice, "switch to Ada Lovelace", Some(id))
        .await
        .unwrap();
    assert_ne!(switched.conversation_id, id);
    assert_eq!(switched.persona.name, "Ada Lovelace");
    assert_eq!(f.audit.events().len(), 3);
}

/// A writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn under_the_hash_policy_no_prompt_text_reaches_the_audit_output() {
    let secret = "my secret plan involves the crown jewels";
    let reply = "a reply about jewels and plans";

    // Through the file-style sink.
    let buffer = Shared::default();
    let sink = WriterAuditSink::new(buffer.clone(), ContentPolicy::Hash);
    audited_turn(Arc::new(sink), secret, reply).await;
    check_hashed(&buffer.text(), secret, reply);

    // Through the tracing sink, with a subscriber writing JSON lines to a buffer.
    let logs = Shared::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    audited_turn(
        Arc::new(link_core::TracingAuditSink::new(ContentPolicy::Hash)),
        secret,
        reply,
    )
    .await;
    check_hashed(&logs.text(), secret, reply);
}

async fn audited_turn(sink: Arc<dyn link_core::AuditSink>, prompt: &str, reply: &str) {
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(ScriptedChatModel::replying([reply])))
        .audit(sink)
        .build()
        .unwrap();
    let principal = Principal {
        username: Some("alice@example.com".into()),
        ..Principal::new("sub-123")
    };
    let ctx = RequestContext::new(principal);
    let source = PersonaSource::Request("Sherlock Holmes".into());
    let id = link
        .create_conversation(&ctx, source)
        .await
        .unwrap()
        .conversation
        .id;
    link.send(&ctx, id, prompt).await.unwrap();
}

fn check_hashed(output: &str, prompt: &str, reply: &str) {
    let lines: Vec<&str> = output.lines().filter(|l| l.contains("AUDIT_LOG")).collect();
    assert_eq!(lines.len(), 2, "{output}");
    assert!(!output.contains(prompt), "prompt text leaked: {output}");
    assert!(!output.contains(reply), "reply text leaked: {output}");
    assert!(!output.contains("jewels"), "{output}");
    assert!(
        !output.contains("alice@example.com"),
        "a claim leaked: {output}"
    );
    assert!(output.contains("sub-123"));
    let hash = ContentPolicy::Hash.apply(Some(prompt)).unwrap();
    assert!(
        output.contains(&hash),
        "the prompt hash is missing: {output}"
    );
}

#[tokio::test]
async fn refused_inputs_cost_their_sender_not_the_audit_log() {
    let f = fixture(ScriptedChatModel::replying(["Indeed."]));
    let id = start(&f.link, "alice").await;
    let long = "x".repeat(9000);
    let denied = ctx("alice").admitted(RateDecision::Denied {
        limit: 25,
        retry_after: Duration::from_secs(3),
    });
    assert!(matches!(
        f.link.send(&denied, id, &long).await,
        Err(Error::RateLimited { .. })
    ));
    assert!(matches!(
        f.link.send(&ctx("alice"), id, &long).await,
        Err(Error::MessageTooLong { max_chars: 8000 })
    ));
    f.link
        .send(&ctx("alice"), id, "Who are you?")
        .await
        .unwrap();

    let events = f.audit.events();
    let (denied, oversize, ok) = (&events[1], &events[2], &events[3]);
    assert_eq!(denied.outcome, AuditOutcome::RateLimited);
    for refused in [denied, oversize] {
        assert_eq!(refused.prompt, None, "a refused input's text is not kept");
        let digest = refused.input.as_ref().expect("its length and hash are");
        assert_eq!(digest.chars, 9000);
        assert_eq!(digest.sha256, link_core::InputDigest::of(&long).sha256);
    }
    assert_eq!(ok.prompt.as_deref(), Some("Who are you?"));
    assert_eq!(ok.input.as_ref().map(|d| d.chars), Some(12));
}
