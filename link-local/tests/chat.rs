//! LocalModel against the real SmolLM2 model: streaming, limits, cancellation, queueing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use futures::StreamExt;
use link_core::{ChatEvent, ChatMessage, ChatModel, Error, StopReason};

use common::{load, request};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_chat_model_conformance_suite() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c).await;
    link_core::testing::conformance::chat_model(&model).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_streams_token_by_token_and_ends_with_usage() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c).await;
    let events: Vec<ChatEvent> = model
        .stream(request(24, 0.7, &[]))
        .await
        .unwrap()
        .map(|e| e.unwrap())
        .collect()
        .await;
    let deltas = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Delta { .. }))
        .count();
    assert!(deltas >= 3, "expected several deltas, got {events:?}");
    let Some(ChatEvent::Done {
        usage: Some(usage), ..
    }) = events.last()
    else {
        panic!("the last event must be done with usage: {events:?}");
    };
    assert!(usage.input_tokens > 10, "{usage:?}");
    assert!((1..=24).contains(&usage.output_tokens), "{usage:?}");
    assert_eq!(usage.total_tokens, usage.input_tokens + usage.output_tokens);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_tokens_is_honoured() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c).await;
    let reply = model.complete(request(5, 0.0, &[])).await.unwrap();
    assert_eq!(reply.stop_reason, StopReason::MaxTokens, "{reply:?}");
    assert_eq!(reply.usage.unwrap().output_tokens, 5, "{reply:?}");
    assert!(!reply.text.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_sequence_ends_the_reply_and_is_not_shown() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c).await;
    // Greedy decoding is repeatable: learn the reply, then stop inside it.
    let free = model.complete(request(30, 0.0, &[])).await.unwrap().text;
    let chars: Vec<char> = free.chars().collect();
    assert!(chars.len() > 20, "reply too short to cut: {free:?}");
    let stop: String = chars[chars.len() / 2..chars.len() / 2 + 4].iter().collect();
    let expected = &free[..free.find(&stop).unwrap()];

    let cut = model.complete(request(30, 0.0, &[&stop])).await.unwrap();
    assert_eq!(
        cut.stop_reason,
        StopReason::StopSequence,
        "stop {stop:?} in {free:?}"
    );
    assert_eq!(cut.text, expected, "stop {stop:?}");
    assert!(!cut.text.contains(&stop));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_turn_of_a_chat_reuses_the_cached_prompt() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c).await;
    let first = request(16, 0.0, &[]);
    let reply = model.complete(first.clone()).await.unwrap();
    let first_prompt = reply.usage.unwrap().input_tokens;
    assert_eq!(model.stats().prompt_tokens_reused, 0, "nothing cached yet");

    let mut next = first;
    next.messages.push(ChatMessage::assistant(reply.text));
    next.messages
        .push(ChatMessage::user("And what happened next?"));
    let again = model.complete(next).await.unwrap();
    let reused = model.stats().prompt_tokens_reused;
    let next_prompt = again.usage.unwrap().input_tokens;
    // Everything up to the first reply is shared; at least the new message is evaluated.
    assert!(
        reused >= first_prompt - 1 && reused < next_prompt,
        "reused {reused} of {next_prompt} (the first prompt was {first_prompt})"
    );
    assert!(!again.text.is_empty(), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_stream_stops_generation() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c).await;
    let mut stream = model.stream(request(1500, 0.0, &[])).await.unwrap();
    for _ in 0..2 {
        assert!(matches!(
            stream.next().await,
            Some(Ok(ChatEvent::Delta { .. }))
        ));
    }
    assert_eq!(
        model.stats().active_generations,
        1,
        "the generation should be running"
    );
    drop(stream);

    common::wait_until(
        Duration::from_secs(10),
        "the worker did not go idle after the drop",
        || model.stats().active_generations == 0,
    )
    .await;
    let after_drop = model.stats().tokens_generated;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        model.stats().tokens_generated,
        after_drop,
        "tokens still being generated"
    );
    assert!(
        after_drop < 200,
        "generation ran on for {after_drop} tokens"
    );

    // The worker is free again.
    let reply = model.complete(request(3, 0.0, &[])).await.unwrap();
    assert_eq!(reply.usage.unwrap().output_tokens, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_busy() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c.with_workers(1).with_queue(1)).await;
    let mut running = model.stream(request(1500, 0.0, &[])).await.unwrap();
    assert!(running.next().await.is_some());

    let queued_model = model.clone();
    let queued = tokio::spawn(async move { queued_model.complete(request(3, 0.0, &[])).await });
    // The only worker is busy with the first request, so the second one waits in the queue.
    common::wait_until(
        Duration::from_secs(30),
        "the second request never reached the queue",
        || model.stats().queued_generations == 1,
    )
    .await;

    // Bounded: a third request that was queued instead of refused would wait for ever.
    let third = tokio::time::timeout(Duration::from_secs(30), model.stream(request(3, 0.0, &[])));
    let err = third
        .await
        .expect("the third request must be answered at once, not queued")
        .err()
        .expect("third request must be refused");
    assert!(matches!(err, Error::Busy { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("busy"), "{err}");

    drop(running);
    let queued = tokio::time::timeout(Duration::from_secs(60), queued)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        queued.unwrap().usage.unwrap().output_tokens,
        3,
        "the queued request is served"
    );
    assert_eq!(
        model.stats().queued_generations,
        0,
        "the queue is empty again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_fail_before_the_first_token() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c.with_context_tokens(128)).await;
    let mut empty = request(5, 0.0, &[]);
    empty.messages.clear();
    assert!(matches!(
        model.stream(empty).await.err(),
        Some(Error::InvalidRequest { .. })
    ));

    let mut long = request(5, 0.0, &[]);
    long.messages[0].content = "word ".repeat(400);
    let err = model
        .stream(long)
        .await
        .err()
        .expect("an oversize prompt must be refused");
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(err.to_string().contains("context"), "{err}");

    let zero = request(0, 0.0, &[]);
    assert!(matches!(
        model.stream(zero).await.err(),
        Some(Error::InvalidRequest { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grammar_constrains_the_reply() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c).await;
    let grammar = r#"root ::= ("yes" | "no") "." "#;
    let reply: String = model
        .stream_with_grammar(request(20, 0.7, &[]), grammar)
        .await
        .unwrap()
        .filter_map(|e| async move {
            match e.unwrap() {
                ChatEvent::Delta { text } => Some(text),
                _ => None,
            }
        })
        .collect()
        .await;
    assert!(reply == "yes." || reply == "no.", "{reply:?}");

    let err = model
        .stream_with_grammar(request(20, 0.7, &[]), "root ::= (")
        .await
        .err()
        .expect("a grammar that does not parse is refused");
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
}

/// The small context window of the edge test: a prompt fills it in a fraction of a second.
const WINDOW: u32 = 128;

/// Tokens left for the reply when the prompt nearly fills [`WINDOW`].
const ROOM: u64 = 3;

/// The standard request with `words` filler words before the question.
fn padded(words: u64, max_tokens: u32) -> link_core::ChatRequest {
    let mut padded = request(max_tokens, 0.0, &[]);
    let question = &padded.messages[0].content;
    padded.messages[0].content = format!("{}{question}", "word ".repeat(words as usize));
    padded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_reaches_the_edge_of_the_context_stops_there() {
    let _serial = common::SERIAL.lock().await;
    let model = load(|c| c.with_context_tokens(WINDOW)).await;
    // The prompt's size without filler, as the model counts it; each filler word is a token.
    let bare = model.complete(padded(0, 1)).await.unwrap();
    let bare = bare.usage.unwrap().input_tokens;
    let words = u64::from(WINDOW) - ROOM - bare;

    // Far more tokens asked for than fit: the reply must stop at the edge, not fail there.
    let reply = model.complete(padded(words, 1000)).await.unwrap();
    let usage = reply.usage.unwrap();
    assert_eq!(usage.input_tokens, u64::from(WINDOW) - ROOM, "{reply:?}");
    assert_eq!(reply.stop_reason, StopReason::MaxTokens, "{reply:?}");
    assert_eq!(usage.output_tokens, ROOM, "{reply:?}");
    assert_eq!(usage.total_tokens, u64::from(WINDOW), "{reply:?}");
}
