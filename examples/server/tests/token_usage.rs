//! `GET /v1/me/usage` through the real binary: the tokens the model reported for each reply,
//! whole and streamed, add up per conversation and in total; a deleted conversation keeps its
//! tokens without a name; a bad month is a 400; another user sees none of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{Stack, parse_sse};

async fn get(s: &Stack, token: &str, query: &str) -> (StatusCode, Value) {
    let response = Client::new()
        .get(format!("{}/v1/me/usage{query}", s.server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Sends `content` for a whole reply; the usage it reported, as `[input, output]`.
async fn send(s: &Stack, token: &str, id: &str, content: &str) -> [u64; 2] {
    tokens(&s.server.send(token, id, content).await["usage"])
}

/// Sends `content` for a streamed reply; the usage its `done` event reported.
async fn send_streamed(s: &Stack, token: &str, id: &str, content: &str) -> [u64; 2] {
    let response = s
        .server
        .send_streamed(token, id, content, "usage-stream")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = parse_sse(&response.text().await.unwrap());
    let (_, done) = events
        .iter()
        .find(|(name, _)| name == "done")
        .expect("a done event");
    tokens(&done["usage"])
}

fn tokens(usage: &Value) -> [u64; 2] {
    let field = |name: &str| {
        usage[name]
            .as_u64()
            .unwrap_or_else(|| panic!("usage.{name} in {usage}"))
    };
    [field("input_tokens"), field("output_tokens")]
}

fn sum(usages: &[[u64; 2]]) -> [u64; 2] {
    usages
        .iter()
        .fold([0, 0], |[i, o], [di, do_]| [i + di, o + do_])
}

/// A conversation's line, or the total, as `[input, output, total, calls]`.
fn line(value: &Value) -> [u64; 4] {
    ["input_tokens", "output_tokens", "total_tokens", "calls"].map(|name| {
        value[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} in {value}"))
    })
}

fn expected([input, output]: [u64; 2], calls: u64) -> [u64; 4] {
    [input, output, input + output, calls]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_adds_up_per_conversation_and_is_the_callers_own() {
    let s = Stack::start(vec![]).await;
    let alice = s.server.token("alice").await;
    let bob = s.server.token("bob").await;

    let holmes = s.server.create(&alice, "Sherlock Holmes").await;
    let holmes_id = holmes["id"].as_str().unwrap();
    let holmes_name = holmes["persona"]["name"].as_str().unwrap();
    let ada = s.server.create(&alice, "Ada Lovelace").await;
    let ada_id = ada["id"].as_str().unwrap();

    let holmes_used = sum(&[
        send(&s, &alice, holmes_id, "Who did it?").await,
        send(&s, &alice, holmes_id, "How do you know?").await,
        send_streamed(&s, &alice, holmes_id, "Go on.").await,
    ]);
    let ada_used = send_streamed(&s, &alice, ada_id, "Hello!").await;
    assert!(
        holmes_used[0] + holmes_used[1] > ada_used[0] + ada_used[1],
        "the test needs holmes to have used more: {holmes_used:?} {ada_used:?}"
    );

    let (status, usage) = get(&s, &alice, "").await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    let month = usage["month"].as_str().unwrap().to_owned();
    assert!(
        month.len() == 7 && month.as_bytes()[4] == b'-',
        "month {month}"
    );
    assert_eq!(
        line(&usage["total"]),
        expected(sum(&[holmes_used, ada_used]), 4)
    );
    let conversations = usage["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 2, "{usage}");
    assert_eq!(conversations[0]["id"], holmes_id, "the most tokens first");
    assert_eq!(conversations[0]["name"], holmes_name);
    assert_eq!(line(&conversations[0]), expected(holmes_used, 3));
    assert_eq!(conversations[1]["id"], ada_id);
    assert_eq!(conversations[1]["name"], ada["persona"]["name"]);
    assert_eq!(line(&conversations[1]), expected(ada_used, 1));

    // The same month asked for by name; a month with nothing in it.
    let (status, named) = get(&s, &alice, &format!("?month={month}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(named, usage);
    let (status, empty) = get(&s, &alice, "?month=2001-01").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        empty,
        json!({"month": "2001-01", "total": {"input_tokens": 0, "output_tokens": 0,
            "total_tokens": 0, "calls": 0}, "conversations": []})
    );

    // Another user sees none of alice's tokens.
    let (status, other) = get(&s, &bob, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(other["conversations"], json!([]), "{other}");
    assert_eq!(line(&other["total"]), [0, 0, 0, 0]);

    // A deleted conversation keeps its tokens, without a name.
    let deleted = Client::new()
        .delete(format!("{}/v1/conversations/{ada_id}", s.server.url))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    let (_, after) = get(&s, &alice, "").await;
    assert_eq!(after["total"], usage["total"]);
    assert_eq!(after["conversations"][1]["id"], ada_id);
    assert_eq!(after["conversations"][1]["name"], Value::Null);

    let line = s.server.wait_for_audit("\"get_token_usage\"").await;
    assert!(line.contains("\"outcome\":\"ok\""), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_month_is_a_400_that_says_how_to_write_one() {
    let s = Stack::start(vec![]).await;
    let alice = s.server.token("alice").await;
    for bad in ["2026-13", "2026-1", "March", "2026-03-01", "0000-01"] {
        let (status, body) = get(&s, &alice, &format!("?month={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request", "{bad}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("YYYY-MM"), "{bad}: {message}");
    }
    let response = Client::new()
        .get(format!("{}/v1/me/usage", s.server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_usage_costs_one_request_of_the_rate() {
    let s = Stack::start(vec![("LINK_RATE_LIMIT_PER_MINUTE", "10".into())]).await;
    let alice = s.server.token("alice").await;
    for remaining in ["9", "8"] {
        let response = Client::new()
            .get(format!("{}/v1/me/usage", s.server.url))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let header = response.headers().get("ratelimit-remaining").unwrap();
        assert_eq!(header.to_str().unwrap(), remaining, "a read costs 1");
    }
}
