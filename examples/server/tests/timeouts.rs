//! Slow or greedy clients and upstreams cannot hold the server: a client that never finishes
//! its headers is closed (`LINK_HEADER_READ_TIMEOUT_SECS`, also the keep-alive idle time), a
//! turn whose upstream stalls ends with a 504 `timeout` (`LINK_REQUEST_TIMEOUT_SECS`), a
//! stream that runs too long ends with an `error` event `timeout` and its partial reply is
//! stored (`LINK_MAX_STREAM_SECS`), and connections over `LINK_MAX_CONNECTIONS` are not
//! served until one closes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::mock_openai::Fault;
use support::{Stack, parse_sse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bound that only fails a test waiting for something that never happens.
const PATIENCE: Duration = Duration::from_secs(15);

/// A minimal keep-alive request.
const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n";

async fn connect(url: &str) -> TcpStream {
    TcpStream::connect(url.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; what it sent, and how long that took.
async fn read_until_closed(tcp: &mut TcpStream) -> (String, Duration) {
    let start = Instant::now();
    let mut seen = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, async {
        let mut buf = [0u8; 1024];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let seen = String::from_utf8_lossy(&seen).into_owned();
    assert!(closed.is_ok(), "the connection is still open: {seen:?}");
    (seen, start.elapsed())
}

/// Reads one response head (the status line and headers).
async fn read_head(tcp: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before a response");
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn a_client_that_stops_sending_its_headers_is_closed() {
    let s = Stack::start(vec![("LINK_HEADER_READ_TIMEOUT_SECS", "1".into())]).await;
    let mut tcp = connect(&s.server.url).await;
    tcp.write_all(b"G").await.unwrap();
    let (sent, took) = read_until_closed(&mut tcp).await;
    assert!(!sent.contains("200 OK"), "{sent:?}");
    assert!(
        took >= Duration::from_millis(900),
        "closed too early: {took:?}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let s = Stack::start(vec![("LINK_HEADER_READ_TIMEOUT_SECS", "1".into())]).await;
    let mut tcp = connect(&s.server.url).await;
    tcp.write_all(HEALTH).await.unwrap();
    let (sent, _) = read_until_closed(&mut tcp).await;
    assert!(sent.starts_with("HTTP/1.1 200"), "not served: {sent:?}");
}

#[tokio::test]
async fn a_stalled_upstream_turn_ends_at_the_request_timeout() {
    let s = Stack::start(vec![("LINK_REQUEST_TIMEOUT_SECS", "1".into())]).await;
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let content = format!("please {}", Fault::Stall.trigger());
    let response = reqwest::Client::new()
        .post(format!("{}/v1/conversations/{id}/messages", s.server.url))
        .bearer_auth(&token)
        .json(&json!({ "content": content }))
        .timeout(PATIENCE)
        .send()
        .await
        .expect("no answer within the bound");
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(
        response.headers().contains_key("x-request-id"),
        "the timeout answer names its request"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "timeout", "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn a_stream_longer_than_the_limit_ends_with_a_timeout_event() {
    let s = Stack::start(vec![("LINK_MAX_STREAM_SECS", "1".into())]).await;
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    // "slowly": 200 words one every 50 ms, about 10 s.
    let response = s
        .server
        .send_streamed(&token, &id, "tell it slowly", "too-long")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    let mut seen = String::new();
    let ended = tokio::time::timeout(PATIENCE, async {
        while let Some(chunk) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream did not end: {seen}");
    let events = parse_sse(&seen);
    let (last, deltas) = events.split_last().unwrap();
    let summary = format!("{} events, the last {last:?}", events.len());
    assert_eq!(last.0, "error", "{summary}");
    assert_eq!(last.1["code"], "timeout", "{summary}");
    assert!(!deltas.is_empty(), "no delta before the limit: {summary}");
    assert!(deltas.iter().all(|(name, _)| name == "delta"), "{summary}");

    // The partial reply is stored, as for a client that went away.
    let audit = s.server.wait_for_audit("too-long").await;
    assert!(audit.contains("\"cancelled\""), "{audit}");
    let messages = s.server.wait_for_messages(&token, &id, 3).await;
    let stored = messages[2]["content"].as_str().unwrap();
    let full: String = (0..200).map(|i| format!("word{i} ")).collect();
    assert!(
        !stored.is_empty() && full.starts_with(stored.trim_end()) && stored.len() < full.len(),
        "not a partial reply: {stored:?}"
    );
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let s = Stack::start(vec![
        ("LINK_MAX_CONNECTIONS", "1".into()),
        ("LINK_HEADER_READ_TIMEOUT_SECS", "60".into()),
    ])
    .await;
    let mut first = connect(&s.server.url).await;
    first.write_all(HEALTH).await.unwrap();
    assert!(read_head(&mut first).await.starts_with("HTTP/1.1 200"));

    // The kernel completes the handshake, but the server does not take the connection.
    let mut second = connect(&s.server.url).await;
    second.write_all(HEALTH).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(1500), read_head(&mut second)).await;
    assert!(waited.is_err(), "served over the cap: {waited:?}");

    drop(first);
    let head = tokio::time::timeout(PATIENCE, read_head(&mut second))
        .await
        .expect("not served after the first connection closed");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}
