//! Moderation in the engine: what users send, replies (whole and streamed) and personas with
//! their greetings are checked by the moderator; a blocked text is never returned or stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use link_core::testing::{RecordingAuditSink, ScriptedChatModel, ScriptedModerator};
use link_core::{
    AuditAction, AuditEvent, AuditOutcome, CharacterCard, ConversationId, ConversationPatch, Error,
    Link, MemoryStore, Message, Month, PageRequest, Persona, PersonaKind, PersonaSource, Principal,
    RequestContext, Result, Role, TextSource, TurnEvent, UserPersona,
};

const FIRST: &str = "The first sentence is long enough to make a segment of its own, surely. ";
const SECOND: &str = "Then a second one says something forbidden, which must never be shown. ";
const THIRD: &str = "A third sentence would follow, but it never comes to be read by anyone.";

struct Fixture {
    link: Link,
    model: ScriptedChatModel,
    moderator: ScriptedModerator,
    audit: RecordingAuditSink,
}

fn moderator() -> ScriptedModerator {
    ScriptedModerator::blocking([("forbidden", "violence"), ("villain", "hate")])
}

fn fixture(model: ScriptedChatModel, moderator: Option<ScriptedModerator>) -> Fixture {
    fixture_with(model, moderator, false)
}

fn fixture_with(
    model: ScriptedChatModel,
    moderator: Option<ScriptedModerator>,
    model_moderates_turns: bool,
) -> Fixture {
    let audit = RecordingAuditSink::default();
    let mut builder = Link::builder()
        .extractor(Arc::new(link_core::testing::ScriptedExtractor::default()))
        .chat_model(Arc::new(model.clone()))
        .store(Arc::new(MemoryStore::default()))
        .audit(Arc::new(audit.clone()))
        .model_moderates_turns(model_moderates_turns);
    if let Some(moderator) = &moderator {
        builder = builder.moderator(Arc::new(moderator.clone()));
    }
    Fixture {
        link: builder.build().unwrap(),
        model,
        moderator: moderator.unwrap_or_default(),
        audit,
    }
}

fn alice() -> RequestContext {
    RequestContext::new(Principal::new("alice"))
}

async fn start(link: &Link) -> ConversationId {
    let source = PersonaSource::Request("Sherlock Holmes".into());
    link.create_conversation(&alice(), source)
        .await
        .unwrap()
        .conversation
        .id
}

async fn messages(link: &Link, id: ConversationId) -> Vec<Message> {
    link.get_conversation(&alice(), id).await.unwrap().messages
}

fn blocked(category: &str) -> Error {
    Error::ContentBlocked {
        categories: vec![category.to_owned()],
    }
}

/// The first `n` audit events of actions other than reading a conversation back.
async fn audited(audit: &RecordingAuditSink, n: usize) -> Vec<AuditEvent> {
    for _ in 0..200 {
        let events: Vec<_> = (audit.events().into_iter())
            .filter(|e| e.action != AuditAction::GetConversation)
            .collect();
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("fewer than {n} audit events: {:?}", audit.events());
}

/// Every item of a stream, in order.
async fn collect(stream: link_core::TurnStream) -> Vec<Result<TurnEvent>> {
    stream.collect().await
}

fn delta_text(events: &[Result<TurnEvent>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(TurnEvent::Delta { text }) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn blocked_input_never_reaches_the_model_and_is_audited_without_its_text() {
    let f = fixture(ScriptedChatModel::replying(["Indeed."]), Some(moderator()));
    let id = start(&f.link).await;
    let text = "Tell me about the forbidden room";

    let error = f.link.send(&alice(), id, text).await.unwrap_err();
    assert_eq!(error, blocked("violence"));
    assert!(!error.to_string().contains("room"), "{error}");
    let error = f.link.send_stream(&alice(), id, text).await.err().unwrap();
    assert_eq!(error, blocked("violence"));

    assert!(f.model.requests().is_empty(), "the model was called");
    assert_eq!(messages(&f.link, id).await.len(), 1, "only the greeting");
    let events = audited(&f.audit, 3).await;
    for event in &events[1..] {
        assert_eq!(event.outcome, AuditOutcome::Error);
        assert_eq!(event.error.as_deref(), Some("content_blocked"));
        assert_eq!(event.prompt, None, "the blocked text was audited");
        assert_eq!(event.response, None);
        assert!(event.input.is_some(), "the input's digest is kept");
    }
    assert!(
        f.moderator
            .checks()
            .contains(&(text.to_owned(), TextSource::Input))
    );
}

#[tokio::test]
async fn a_blocked_reply_is_neither_stored_nor_returned() {
    let reply = "Beware the villain of the piece.";
    let f = fixture(
        ScriptedChatModel::replying([reply, "A fine day."]),
        Some(moderator()),
    );
    let id = start(&f.link).await;

    let error = f.link.send(&alice(), id, "Who is it?").await.unwrap_err();
    assert_eq!(error, blocked("hate"));
    assert_eq!(messages(&f.link, id).await.len(), 1, "nothing of the turn");
    let event = audited(&f.audit, 2).await.pop().unwrap();
    assert_eq!(event.error.as_deref(), Some("content_blocked"));
    assert_eq!(event.response, None, "the blocked reply was audited");
    assert!(event.usage.is_some(), "the tokens are still counted");
    let usage = f
        .link
        .token_usage(&alice(), Month::current())
        .await
        .unwrap();
    assert_eq!(
        usage.total.calls, 1,
        "the blocked reply's tokens are tallied"
    );
    let checked: Vec<_> = f.moderator.checks().into_iter().skip(1).collect();
    assert_eq!(
        checked,
        vec![
            ("Who is it?".to_owned(), TextSource::Input),
            (reply.to_owned(), TextSource::Output),
        ]
    );

    // The next reply passes and is stored as usual.
    let ok = f.link.send(&alice(), id, "And now?").await.unwrap();
    assert_eq!(ok.message.content, "A fine day.");
    assert_eq!(messages(&f.link, id).await.len(), 3);
}

#[tokio::test]
async fn a_blocked_regenerated_or_resent_reply_changes_nothing() {
    let f = fixture(
        ScriptedChatModel::replying(["A fine day.", "The villain returns."]),
        Some(moderator()),
    );
    let id = start(&f.link).await;
    f.link.send(&alice(), id, "Hello").await.unwrap();
    let before = messages(&f.link, id).await;

    let error = f.link.regenerate(&alice(), id).await.unwrap_err();
    assert_eq!(error, blocked("hate"));
    assert_eq!(messages(&f.link, id).await, before);

    // Regenerating again gets "A fine day." (the script cycles): resend gets the villain.
    f.link.regenerate(&alice(), id).await.unwrap();
    let before = messages(&f.link, id).await;
    let user = before[1].id;
    let error = f
        .link
        .resend(&alice(), id, user, "Hello again")
        .await
        .unwrap_err();
    assert_eq!(error, blocked("hate"));
    assert_eq!(messages(&f.link, id).await, before);
    let error = f
        .link
        .resend(&alice(), id, user, "A forbidden hello")
        .await
        .unwrap_err();
    assert_eq!(error, blocked("violence"));
    let error = f
        .link
        .edit_message(&alice(), id, user, "A forbidden edit")
        .await
        .unwrap_err();
    assert_eq!(error, blocked("violence"));
    assert_eq!(messages(&f.link, id).await, before);
}

#[tokio::test]
async fn a_blocked_persona_or_greeting_creates_no_conversation() {
    let f = fixture(ScriptedChatModel::replying(["Hi."]), Some(moderator()));
    let ctx = alice();

    // Extracted: the model's text.
    let source = PersonaSource::Request("The Villain".into());
    let error = f.link.create_conversation(&ctx, source).await.unwrap_err();
    assert_eq!(error, blocked("hate"));
    let error = f.link.extract_persona(&ctx, "A villain").await.unwrap_err();
    assert_eq!(error, blocked("hate"));
    let (text, source) = f.moderator.checks().pop().unwrap();
    assert_eq!(source, TextSource::Output);
    assert!(
        text.contains("Greeting: Greetings! I am A villain."),
        "{text}"
    );

    // Given: the user's text; the greeting is checked with the rest.
    let persona = Persona::new(
        "Ada",
        PersonaKind::Historical,
        "A mathematician.",
        "Welcome to my forbidden study.",
    );
    let given = PersonaSource::Persona(Box::new(persona.clone()));
    let error = f.link.create_conversation(&ctx, given).await.unwrap_err();
    assert_eq!(error, blocked("violence"));
    assert_eq!(f.moderator.checks().pop().unwrap().1, TextSource::Input);

    // A card's alternate greeting is checked too.
    let mut fine = persona;
    fine.greeting = "Welcome to my study.".into();
    let mut card = CharacterCard::from_persona(&fine);
    card.data.alternate_greetings = vec!["I am the villain here.".into()];
    let error = (f.link)
        .create_conversation(&ctx, PersonaSource::Card(Box::new(card)))
        .await
        .unwrap_err();
    assert_eq!(error, blocked("hate"));

    let page = (f.link)
        .list_conversations(&ctx, &PageRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty(), "{:?}", page.items);
    assert!(f.model.requests().is_empty());

    // A fine persona still makes a conversation.
    let source = PersonaSource::Persona(Box::new(fine));
    f.link.create_conversation(&ctx, source).await.unwrap();
}

#[tokio::test]
async fn a_stream_releases_checked_segments_and_stops_at_a_blocked_one() {
    let reply = format!("{FIRST}{SECOND}{THIRD}");
    let f = fixture(ScriptedChatModel::replying([reply]), Some(moderator()));
    let id = start(&f.link).await;

    let stream = f.link.send_stream(&alice(), id, "Go on").await.unwrap();
    let events = collect(stream).await;
    assert_eq!(delta_text(&events), FIRST, "{events:?}");
    assert_eq!(
        events.last().unwrap().as_ref().unwrap_err(),
        &blocked("violence")
    );
    assert_eq!(events.len(), 2, "one segment, then the error: {events:?}");

    let history = messages(&f.link, id).await;
    assert_eq!(history.len(), 1, "the store holds the turn: {history:?}");
    let event = audited(&f.audit, 2).await.pop().unwrap();
    assert_eq!(event.error.as_deref(), Some("content_blocked"));
    assert_eq!(event.response, None, "the withheld reply was audited");
    assert!(
        !format!("{:?}", f.audit.events()).contains("forbidden"),
        "the blocked segment reached the audit log"
    );
}

#[tokio::test]
async fn a_passing_stream_is_checked_segment_by_segment_and_whole() {
    let reply = format!("{FIRST}{THIRD}");
    let f = fixture(
        ScriptedChatModel::replying([reply.clone()]),
        Some(moderator()),
    );
    let id = start(&f.link).await;

    let stream = f.link.send_stream(&alice(), id, "Go on").await.unwrap();
    let events = collect(stream).await;
    let deltas: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Ok(TurnEvent::Delta { text }) => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, vec![FIRST.to_owned(), THIRD.to_owned()]);
    let Some(Ok(TurnEvent::Done { message, .. })) = events.last() else {
        panic!("no done event: {events:?}");
    };
    assert_eq!(message.content, reply);
    assert_eq!(messages(&f.link, id).await[2].content, reply);
    let outputs: Vec<_> = (f.moderator.checks().into_iter())
        .filter(|(_, source)| *source == TextSource::Output)
        .map(|(text, _)| text)
        .skip(1) // the persona
        .collect();
    assert_eq!(outputs, vec![FIRST.to_owned(), THIRD.to_owned(), reply]);
}

#[tokio::test]
async fn a_dropped_moderated_stream_keeps_only_what_was_released() {
    let reply = format!("{FIRST}{THIRD}");
    let model = ScriptedChatModel::replying([reply]).with_chunk_delay(Duration::from_millis(5));
    let f = fixture(model, Some(moderator()));
    let id = start(&f.link).await;

    let mut stream = f.link.send_stream(&alice(), id, "Go on").await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(
        first,
        TurnEvent::Delta {
            text: FIRST.to_owned()
        }
    );
    drop(stream);
    f.audit.wait_for(2).await;
    let history = messages(&f.link, id).await;
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[2].role, Role::Assistant);
    assert_eq!(history[2].content, FIRST);
    assert!(history[2].interrupted);
}

#[tokio::test]
async fn a_failing_moderator_fails_the_action() {
    let down = Error::provider("openai", "moderation is down")
        .with_status(503)
        .with_retryable(true);
    let f = fixture(
        ScriptedChatModel::replying(["Hi."]),
        Some(ScriptedModerator::failing(down.clone())),
    );
    let source = PersonaSource::Request("Sherlock Holmes".into());
    let error = f.link.create_conversation(&alice(), source).await;
    assert_eq!(error.unwrap_err(), down);
}

#[tokio::test]
async fn without_a_moderator_nothing_changes() {
    let reply = format!("{FIRST}{SECOND}");
    let f = fixture(ScriptedChatModel::replying([reply.clone()]), None);
    let id = start(&f.link).await;
    let sent = f
        .link
        .send(&alice(), id, "A forbidden villain?")
        .await
        .unwrap();
    assert_eq!(sent.message.content, reply);

    let stream = f.link.send_stream(&alice(), id, "Go on").await.unwrap();
    let events = collect(stream).await;
    let deltas = events
        .iter()
        .filter(|e| matches!(e, Ok(TurnEvent::Delta { .. })))
        .count();
    // Word by word as the model sent them: nothing held back.
    assert_eq!(deltas, reply.split_inclusive(' ').count());
    assert_eq!(delta_text(&events), reply);
    assert_eq!(messages(&f.link, id).await.len(), 5);
}

#[tokio::test]
async fn a_model_that_moderates_its_turns_leaves_only_personas_to_the_moderator() {
    let reply = format!("{FIRST}{SECOND}");
    let f = fixture_with(
        ScriptedChatModel::replying([reply.clone()]),
        Some(moderator()),
        true,
    );
    let id = start(&f.link).await;
    let sent = f
        .link
        .send(&alice(), id, "A forbidden villain?")
        .await
        .unwrap();
    assert_eq!(sent.message.content, reply);
    let checks = f.moderator.checks();
    assert_eq!(checks.len(), 1, "only the persona: {checks:?}");
    assert_eq!(checks[0].1, TextSource::Output);
    let source = PersonaSource::Request("The Villain".into());
    let error = f.link.create_conversation(&alice(), source).await;
    assert_eq!(error.unwrap_err(), blocked("hate"));
}

#[tokio::test]
async fn a_blocked_user_persona_is_not_stored() {
    let f = fixture_with(
        ScriptedChatModel::replying(["Hi."]),
        Some(moderator()),
        true,
    );
    let id = start(&f.link).await;
    let villain = UserPersona::new("Moriarty", "A villain through and through.");
    let error = f
        .link
        .set_user_persona(&alice(), Some(villain.clone()))
        .await;
    assert_eq!(error.unwrap_err(), blocked("hate"));
    assert_eq!(f.link.user_persona(&alice()).await.unwrap(), None);
    let patch = ConversationPatch::default().user_persona(Some(villain));
    let error = f.link.update_conversation(&alice(), id, patch).await;
    assert_eq!(error.unwrap_err(), blocked("hate"));
    let conversation = f.link.get_conversation(&alice(), id).await.unwrap();
    assert_eq!(conversation.conversation.user_persona, None);
    let (text, source) = f.moderator.checks().pop().unwrap();
    assert_eq!(source, TextSource::Input);
    assert!(text.contains("Name: Moriarty"), "{text}");

    let watson = UserPersona::new("Watson", "A doctor.");
    let stored = f
        .link
        .set_user_persona(&alice(), Some(watson))
        .await
        .unwrap();
    assert_eq!(stored.unwrap().name, "Watson");
}

#[tokio::test]
async fn a_reply_whose_segments_pass_but_whole_does_not_is_withheld_at_the_end() {
    let reply = format!("{FIRST}{THIRD}");
    // The phrase spans the two segments: only the check of the whole reply sees it.
    let moderator = ScriptedModerator::blocking([("surely. a third", "self-harm")]);
    let f = fixture(ScriptedChatModel::replying([reply]), Some(moderator));
    let id = start(&f.link).await;

    let stream = f.link.send_stream(&alice(), id, "Go on").await.unwrap();
    let events = collect(stream).await;
    assert_eq!(delta_text(&events), FIRST, "{events:?}");
    assert_eq!(
        events.last().unwrap().as_ref().unwrap_err(),
        &blocked("self-harm")
    );
    assert_eq!(messages(&f.link, id).await.len(), 1, "nothing stored");
}

/// A model that streams some text and then says its content filter stopped the reply.
#[derive(Debug)]
struct Filtered;

#[async_trait::async_trait]
impl link_core::ChatModel for Filtered {
    async fn complete(&self, _request: link_core::ChatRequest) -> Result<link_core::ChatResponse> {
        Err(Error::invalid("stream only"))
    }

    async fn stream(&self, _request: link_core::ChatRequest) -> Result<link_core::ChatStream> {
        let events = vec![
            Ok(link_core::ChatEvent::Delta {
                text: "Some words the filter".into(),
            }),
            Ok(link_core::ChatEvent::Delta {
                text: " did not like.".into(),
            }),
            Ok(link_core::ChatEvent::Done {
                stop_reason: link_core::StopReason::ContentFiltered,
                usage: None,
            }),
        ];
        Ok(futures::stream::iter(events).boxed())
    }

    fn model_id(&self) -> String {
        "filtered".into()
    }
}

#[tokio::test]
async fn with_a_moderator_a_filtered_stream_shows_none_of_its_text() {
    let link = Link::builder()
        .extractor(Arc::new(link_core::testing::ScriptedExtractor::default()))
        .chat_model(Arc::new(Filtered))
        .moderator(Arc::new(moderator()))
        .build()
        .unwrap();
    let id = start(&link).await;
    let stream = link.send_stream(&alice(), id, "Go on").await.unwrap();
    let events = collect(stream).await;
    assert_eq!(events.len(), 1, "no text before the error: {events:?}");
    assert!(
        matches!(events[0], Err(Error::ContentFiltered { .. })),
        "{events:?}"
    );
    assert_eq!(messages(&link, id).await.len(), 1);
}
