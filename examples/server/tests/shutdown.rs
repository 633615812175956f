//! SIGTERM while a reply streams: the server stops taking requests, lets the stream finish
//! within `LINK_SHUTDOWN_GRACE_SECS`, stores the turn and exits 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures::StreamExt;
use support::mock_openai::GRADUAL_REPLY;
use support::{Options, Server, Stack, parse_sse};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_streaming_reply_finish_and_the_turn_is_stored() {
    // The gradual reply takes about 3 s: well inside this grace period.
    let s = Stack::start(vec![("LINK_SHUTDOWN_GRACE_SECS", "20".into())]).await;
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let response = s
        .server
        .send_streamed(&token, &id, "tell it gradually", "in-flight")
        .await;
    let mut body = response.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("event: delta") {
        seen.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }

    // The stream is in flight: stop the server (SIGTERM) while reading the rest.
    let server = s.server;
    let stopped = tokio::task::spawn_blocking(move || server.stop());
    while let Some(chunk) = body.next().await {
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(
        stopped.await.unwrap(),
        "the server did not exit 0 after SIGTERM"
    );
    let events = parse_sse(&seen);
    let (last, deltas) = events.split_last().unwrap();
    assert_eq!(last.0, "done", "the stream was cut: {events:?}");
    let text: String = deltas
        .iter()
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, GRADUAL_REPLY);

    // Started again on the same database, the turn is there.
    let again = Server::start(Options {
        database: &s.database,
        openai_base_url: &s.mock.base_url,
        env: vec![],
    });
    let messages = again.read(&token, &id).await["messages"].clone();
    assert_eq!(messages[1]["content"], "tell it gradually");
    assert_eq!(messages[2]["content"], GRADUAL_REPLY);
}
