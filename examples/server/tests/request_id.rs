//! Request ids: the server generates the `x-request-id` that the audit line and the logs
//! trust, whatever the client sends. A client's own `x-request-id` that is non-empty, at most
//! `RequestId::MAX_LEN` bytes and printable ASCII without spaces is kept apart, as
//! `client_request_id` in the audit line and the log span, and echoed as
//! `x-client-request-id`; anything else is dropped, never echoed, audited or logged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use link::RequestId;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::Stack;

/// Creates a conversation (an audited action) sending `id` as `x-request-id`; the response's
/// headers.
async fn answered(s: &Stack, token: &str, id: Option<HeaderValue>) -> HeaderMap {
    let mut request = Client::new()
        .post(format!("{}/v1/conversations", s.server.url))
        .bearer_auth(token)
        .json(&json!({"persona_request": "Sherlock Holmes"}));
    if let Some(id) = id {
        request = request.header("x-request-id", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.headers().clone()
}

/// The server's request id among `headers`, checked to be one it generated.
fn server_id(headers: &HeaderMap) -> String {
    let id = headers["x-request-id"].to_str().unwrap().to_owned();
    assert!(is_generated(&id), "not a generated id: {id:?}");
    id
}

/// Whether `id` has the shape of a generated id: a hyphenated lower-case UUID.
fn is_generated(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && groups.iter().all(|g| {
            g.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// The JSON of the audit line of request `id`.
async fn audit_of(s: &Stack, id: &str) -> Value {
    let line = s
        .server
        .wait_for_audit(&format!("\"request_id\":\"{id}\""))
        .await;
    let (_, json) = line.split_once("AUDIT_LOG ").unwrap();
    serde_json::from_str(json).unwrap()
}

/// A log line without its ANSI colour sequences (`ESC [ ... m`).
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('\u{1b}') {
        out.push_str(&rest[..start]);
        rest = rest[start..].split_once('m').map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn a_sane_client_id_is_kept_apart_from_the_server_generated_one() {
    let s = Stack::start(vec![]).await;
    let token = s.server.token("alice").await;
    let longest = "x".repeat(RequestId::MAX_LEN);
    // The last one is shaped like a generated id: even so it is not taken as the server's.
    let forged = "00000000-0000-4000-8000-000000000000";
    for given in ["abc-123", "trace:4f/2?a=b&c=~!", longest.as_str(), forged] {
        let headers = answered(&s, &token, Some(HeaderValue::from_str(given).unwrap())).await;
        let id = server_id(&headers);
        assert_ne!(id, given);
        assert_eq!(headers["x-client-request-id"], given);
        let audit = audit_of(&s, &id).await;
        assert_eq!(audit["request_id"], id.as_str());
        assert_eq!(audit["client_request_id"], given);
        let span = format!("client_request_id=\"{given}\"");
        (s.server)
            .wait_for_log(|l| plain(l).contains(&id) && plain(l).contains(&span))
            .await;
    }
}

#[tokio::test]
async fn an_unsafe_client_id_is_dropped_from_the_response_the_audit_and_the_log() {
    let s = Stack::start(vec![]).await;
    let token = s.server.token("alice").await;
    let too_long = "y".repeat(RequestId::MAX_LEN + 1);
    let far_too_long = "z".repeat(500);
    let unsafe_ids: Vec<HeaderValue> = vec![
        HeaderValue::from_static("with space"),
        HeaderValue::from_static("tab\there"),
        // obs-text: valid in a header, not ASCII.
        HeaderValue::from_bytes("caf\u{e9}-id".as_bytes()).unwrap(),
        HeaderValue::from_static(""),
        HeaderValue::from_str(&too_long).unwrap(),
        HeaderValue::from_str(&far_too_long).unwrap(),
    ];
    for given in unsafe_ids {
        let headers = answered(&s, &token, Some(given.clone())).await;
        let id = server_id(&headers);
        assert!(
            !headers.contains_key("x-client-request-id"),
            "{given:?} echoed"
        );
        let audit = audit_of(&s, &id).await;
        assert_eq!(audit["client_request_id"], Value::Null, "{given:?}");
        let raw = String::from_utf8_lossy(given.as_bytes()).into_owned();
        if !raw.is_empty() {
            assert!(
                !audit.to_string().contains(&raw),
                "{given:?} reached the audit: {audit}"
            );
        }
    }
    let logs = s.server.logs().join("\n");
    assert!(!logs.contains(&too_long), "the 129-byte id reached the log");
    assert!(
        !logs.contains(&far_too_long),
        "the 500-byte id reached the log"
    );
}

#[tokio::test]
async fn without_an_id_each_request_gets_its_own() {
    let s = Stack::start(vec![]).await;
    let token = s.server.token("alice").await;
    let first = answered(&s, &token, None).await;
    let second = answered(&s, &token, None).await;
    assert_ne!(server_id(&first), server_id(&second));
    assert!(!first.contains_key("x-client-request-id"));
    let audit = audit_of(&s, &server_id(&first)).await;
    assert_eq!(audit["client_request_id"], Value::Null);
}
