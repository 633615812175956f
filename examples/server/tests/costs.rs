//! What a request costs, against the real binary: a model call takes more of the per-user
//! rate than a read (a persona extraction 4, a reply 2, anything else 1), and with
//! `LINK_DAILY_TOKENS` a user's model calls stop, with 429 `quota_exceeded` and a
//! `Retry-After` to midnight UTC, once the tokens the model reported reach the quota.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use support::Stack;
use support::mock_openai::{PROMPT_TOKENS, REPLY, completion_tokens};

/// Sends `content` to conversation `id`, whole or streamed; the answer, its body read.
async fn send(s: &Stack, token: &str, id: &str, content: &str, streamed: bool) -> Answer {
    let mut request = Client::new()
        .post(format!("{}/v1/conversations/{id}/messages", s.server.url))
        .bearer_auth(token)
        .json(&json!({"content": content}));
    if streamed {
        request = request.header("accept", "text/event-stream");
    }
    Answer::of(request.send().await.unwrap()).await
}

/// Starts a conversation with the character `request` asks for.
async fn create(s: &Stack, token: &str, request: &str) -> Answer {
    let request = Client::new()
        .post(format!("{}/v1/conversations", s.server.url))
        .bearer_auth(token)
        .json(&json!({"persona_request": request}));
    Answer::of(request.send().await.unwrap()).await
}

async fn list(s: &Stack, token: &str) -> Answer {
    let request = Client::new()
        .get(format!("{}/v1/conversations", s.server.url))
        .bearer_auth(token);
    Answer::of(request.send().await.unwrap()).await
}

/// A response's status, the headers this file reads, and its body.
struct Answer {
    status: StatusCode,
    remaining: Option<String>,
    retry_after: Option<u64>,
    body: String,
}

impl Answer {
    async fn of(response: Response) -> Self {
        let header =
            |name: &str| (response.headers().get(name)).map(|v| v.to_str().unwrap().to_owned());
        let remaining = header("ratelimit-remaining");
        let retry_after = header("retry-after").map(|v| v.parse().unwrap());
        Self {
            status: response.status(),
            remaining,
            retry_after,
            body: response.text().await.unwrap(),
        }
    }

    fn error(&self) -> Value {
        serde_json::from_str::<Value>(&self.body).unwrap()["error"].clone()
    }
}

#[tokio::test]
async fn model_calls_cost_more_of_the_rate_than_reads() {
    let s = Stack::start(vec![("LINK_RATE_LIMIT_PER_MINUTE", "10".into())]).await;
    let alice = s.server.token("alice").await;
    let created = create(&s, &alice, "Sherlock Holmes").await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(
        created.remaining.as_deref(),
        Some("6"),
        "an extraction costs 4"
    );
    let created: Value = serde_json::from_str(&created.body).unwrap();
    let id = created["id"].as_str().unwrap();

    let reply = send(&s, &alice, id, "Who are you?", false).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.remaining.as_deref(), Some("4"), "a reply costs 2");
    assert_eq!(list(&s, &alice).await.remaining.as_deref(), Some("3"));
    let streamed = send(&s, &alice, id, "And you?", true).await;
    assert_eq!(streamed.status, StatusCode::OK);
    assert_eq!(streamed.remaining.as_deref(), Some("1"), "a stream costs 2");

    // One left: a reply does not fit and uses none of it; a read does.
    let refused = send(&s, &alice, id, "Once more?", false).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.error()["code"], "rate_limited");
    assert!(refused.retry_after.unwrap() >= 1);
    let read = list(&s, &alice).await;
    assert_eq!(
        (read.status, read.remaining.as_deref()),
        (StatusCode::OK, Some("0"))
    );
    // Bob has his own allowance.
    let bob = s.server.token("bob").await;
    assert_eq!(list(&s, &bob).await.remaining.as_deref(), Some("9"));
}

/// Seconds from now to the next midnight UTC.
fn to_midnight() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    86_400 - now.as_secs() % 86_400
}

#[tokio::test]
async fn a_users_model_calls_stop_when_the_daily_tokens_are_used_up() {
    // One reply's usage and one token more: the second reply crosses the quota.
    let one_reply = PROMPT_TOKENS + completion_tokens(REPLY);
    let quota = one_reply + 1;
    let s = Stack::start(vec![("LINK_DAILY_TOKENS", quota.to_string())]).await;
    let alice = s.server.token("alice").await;
    let id = s.server.conversation(&alice, "Sherlock Holmes").await;
    assert_eq!(
        send(&s, &alice, &id, "One?", false).await.status,
        StatusCode::OK
    );
    // A call that crosses the quota is not cut short.
    let crossing = send(&s, &alice, &id, "Two?", true).await;
    assert_eq!(crossing.status, StatusCode::OK);
    assert!(crossing.body.contains("event: done"), "{}", crossing.body);

    for streamed in [false, true] {
        let refused = send(&s, &alice, &id, "Three?", streamed).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        let error = refused.error();
        assert_eq!(error["code"], "quota_exceeded");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("daily token quota"), "{message}");
        let wait = refused.retry_after.unwrap();
        assert!(wait.abs_diff(to_midnight()) <= 5, "{wait} s to midnight?");
        assert_eq!(refused.remaining, None, "the refusal counted no rate");
    }
    // Starting a conversation is a model call too; reading is not.
    let refused = create(&s, &alice, "Ada Lovelace").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(list(&s, &alice).await.status, StatusCode::OK);
    let audit = s.server.wait_for_audit("quota_exceeded").await;
    assert!(audit.contains("\"outcome\":\"rate_limited\""), "{audit}");

    // Bob's tokens are his own.
    let bob = s.server.token("bob").await;
    let bobs = s.server.conversation(&bob, "Ada Lovelace").await;
    assert_eq!(
        send(&s, &bob, &bobs, "Hello?", false).await.status,
        StatusCode::OK
    );
}
