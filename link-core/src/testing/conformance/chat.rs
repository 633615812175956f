//! The [`ChatModel`] checks: a whole reply and a stream that is deltas then exactly one done
//! event, last; usage either absent or real; a dropped stream leaves the model usable; the
//! context window and token counter are plausible.

use futures::StreamExt;

use super::expect_ok;
use crate::{
    ChatEvent, ChatModel, ChatRequest, GenerationParams, Message, Persona, PersonaKind,
    PromptBuilder, Role, StopReason, Usage,
};

/// Runs every check of this module, in order.
pub async fn chat_model(model: &dyn ChatModel) {
    model_id_is_not_empty(model);
    the_window_holds_the_sample_and_the_counter_counts(model);
    complete_returns_text(model).await;
    stream_is_deltas_then_one_done_last(model).await;
    usage_is_absent_or_counts_the_reply(model).await;
    dropping_a_stream_leaves_the_model_usable(model).await;
}

/// A short turn with Sherlock Holmes, bounded to a few dozen tokens.
pub fn sample_request() -> ChatRequest {
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

/// The whole streamed reply: every event, in order, each one a success.
async fn stream_events(model: &dyn ChatModel) -> Vec<ChatEvent> {
    let stream = expect_ok(model.stream(sample_request()).await, "stream (start)");
    stream
        .map(|event| expect_ok(event, "stream (mid-way)"))
        .collect()
        .await
}

fn streamed_text(events: &[ChatEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Delta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The usage of the done event, which must be the last event.
fn done_usage(events: &[ChatEvent]) -> Option<Usage> {
    match events.last() {
        Some(ChatEvent::Done { usage, .. }) => *usage,
        other => panic!("the done event must be the last event, the last was {other:?}"),
    }
}

/// A usage the provider reported for a non-empty reply to a non-empty prompt counts both; a
/// zero there is a missing usage reported as zero, which the port forbids (it must be `None`).
fn check_usage(usage: Option<Usage>, what: &str) {
    let Some(usage) = usage else { return };
    assert!(
        usage.input_tokens > 0 && usage.output_tokens > 0,
        "{what}: a usage with zero tokens must be None instead: {usage:?}"
    );
    assert!(
        usage.total_tokens >= usage.output_tokens,
        "{what}: usage total {} is below output {}",
        usage.total_tokens,
        usage.output_tokens
    );
}

/// `model_id` names the model (audit records carry it).
pub fn model_id_is_not_empty(model: &dyn ChatModel) {
    assert!(!model.model_id().is_empty(), "model_id is empty");
}

/// The context window holds the sample request with its reply, by the model's own count, and
/// the counter counts text as tokens (some for words, none for nothing).
pub fn the_window_holds_the_sample_and_the_counter_counts(model: &dyn ChatModel) {
    let counter = model.token_counter();
    assert_eq!(counter.count(""), 0, "the empty text takes tokens");
    let words = counter.count("Good evening, Mr Holmes. What are you working on?");
    assert!(
        (5..=40).contains(&words),
        "11 words counted as {words} tokens"
    );
    let request = sample_request();
    let used = counter.count_request(&request) + 48;
    assert!(
        used <= model.context_window(),
        "the sample request and its reply take {used} tokens; the window holds {}",
        model.context_window()
    );
}

/// `complete` returns non-blank text with a stop reason other than cancelled.
pub async fn complete_returns_text(model: &dyn ChatModel) {
    let whole = expect_ok(model.complete(sample_request()).await, "complete");
    assert!(
        !whole.text.trim().is_empty(),
        "complete returned empty text"
    );
    assert_ne!(
        whole.stop_reason,
        StopReason::Cancelled,
        "complete reported cancelled"
    );
}

/// A stream is text deltas then exactly one [`ChatEvent::Done`], the last event.
pub async fn stream_is_deltas_then_one_done_last(model: &dyn ChatModel) {
    let events = stream_events(model).await;
    assert!(
        !streamed_text(&events).trim().is_empty(),
        "stream produced no text"
    );
    let dones = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Done { .. }))
        .count();
    assert_eq!(dones, 1, "stream must end with exactly one done event");
    done_usage(&events);
}

/// Usage, whole or streamed, is `None` when the provider did not report it, never zeros; when
/// present it counts the prompt and the reply.
pub async fn usage_is_absent_or_counts_the_reply(model: &dyn ChatModel) {
    let whole = expect_ok(model.complete(sample_request()).await, "complete");
    check_usage(whole.usage, "complete");
    let events = stream_events(model).await;
    check_usage(done_usage(&events), "stream");
}

/// Dropping a stream after its first event is safe, and the model answers the next request.
pub async fn dropping_a_stream_leaves_the_model_usable(model: &dyn ChatModel) {
    let mut early = expect_ok(model.stream(sample_request()).await, "stream (start)");
    let first = early.next().await;
    assert!(first.is_some(), "stream ended with no event");
    drop(early);

    let again = expect_ok(
        model.complete(sample_request()).await,
        "complete after a dropped stream",
    );
    assert!(
        !again.text.trim().is_empty(),
        "complete after a dropped stream returned empty text"
    );
}
