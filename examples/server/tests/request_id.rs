//! `x-request-id` as link-core's `RequestId::from_caller` promises it: a caller's id that is
//! non-empty, at most `RequestId::MAX_LEN` bytes and printable ASCII without spaces is
//! echoed and audited; anything else is replaced by a generated UUID, on the response and
//! in the audit line alike, never echoed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use link::RequestId;
use reqwest::header::HeaderValue;
use reqwest::{Client, StatusCode};
use serde_json::json;
use support::Stack;

/// Creates a conversation (an audited action) sending `id` as `x-request-id`; the id the
/// server answered with.
async fn answered_id(s: &Stack, token: &str, id: Option<HeaderValue>) -> String {
    let mut request = Client::new()
        .post(format!("{}/v1/conversations", s.server.url))
        .bearer_auth(token)
        .json(&json!({"persona_request": "Sherlock Holmes"}));
    if let Some(id) = id {
        request = request.header("x-request-id", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
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

#[tokio::test]
async fn a_sane_id_is_echoed_and_audited() {
    let s = Stack::start(vec![]).await;
    let token = s.server.token("alice").await;
    let longest = "x".repeat(RequestId::MAX_LEN);
    for given in ["abc-123", "trace:4f/2?a=b&c=~!", longest.as_str()] {
        let answered = answered_id(&s, &token, Some(HeaderValue::from_str(given).unwrap())).await;
        assert_eq!(answered, given);
        s.server.wait_for_audit(&format!("\"{given}\"")).await;
    }
}

#[tokio::test]
async fn an_unsafe_id_is_replaced_on_the_response_and_in_the_audit() {
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
        let answered = answered_id(&s, &token, Some(given.clone())).await;
        assert!(
            is_generated(&answered),
            "{given:?} answered as {answered:?}"
        );
        let audit = s.server.wait_for_audit(&answered).await;
        let raw = String::from_utf8_lossy(given.as_bytes()).into_owned();
        if !raw.is_empty() {
            assert!(
                !audit.contains(&raw),
                "{given:?} reached the audit: {audit}"
            );
        }
    }
    let logs = s.server.logs().join("\n");
    assert!(
        !logs.contains(&far_too_long),
        "the 500-byte id reached the log"
    );
}

#[tokio::test]
async fn without_an_id_each_request_gets_its_own() {
    let s = Stack::start(vec![]).await;
    let token = s.server.token("alice").await;
    let first = answered_id(&s, &token, None).await;
    let second = answered_id(&s, &token, None).await;
    assert!(
        is_generated(&first) && is_generated(&second),
        "{first} {second}"
    );
    assert_ne!(first, second);
}
