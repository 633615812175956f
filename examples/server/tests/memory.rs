//! A conversation's memory through the HTTP API of the real binary: `GET` includes it, the
//! owner edits the summary and pins facts with `PATCH` (bounded, a clear 400 beyond), the
//! model gets both as data, and turns that leave a small window are summarised into it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use support::Stack;
use support::mock_openai::MockOpenAi;

async fn call(
    s: &Stack,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Client::new()
        .request(method, format!("{}{path}", s.server.url))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_owner_reads_and_edits_the_memory_and_the_model_gets_it() {
    let env = vec![("LINK_RATE_LIMIT_PER_MINUTE", "1000".to_owned())];
    let s = Stack::start_with(MockOpenAi::setup(), env).await;
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let path = format!("/v1/conversations/{id}");
    let (_, read) = call(&s, &token, Method::GET, &path, None).await;
    assert_eq!(read["memory"]["summary"], "");
    assert_eq!(read["memory"]["pinned_facts"], json!([]));

    let patch = json!({"memory": "Watson moved out.", "pinned_facts": ["The user is Sam.", " "]});
    let (status, updated) = call(&s, &token, Method::PATCH, &path, Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        updated["memory"]["pinned_facts"],
        json!(["The user is Sam."])
    );
    let (_, read) = call(&s, &token, Method::GET, &path, None).await;
    assert_eq!(read["memory"]["summary"], "Watson moved out.");
    assert!(read["memory"]["updated_at"].is_string());

    let send = json!({"content": "Who am I?"});
    call(
        &s,
        &token,
        Method::POST,
        &format!("{path}/messages"),
        Some(send),
    )
    .await;
    let body = s.mock.bodies().await.pop().unwrap();
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("<memory>") && system.contains("Watson moved out."),
        "{system}"
    );
    assert!(system.contains("The user is Sam."), "{system}");

    for (patch, bound) in [
        (json!({"memory": "x".repeat(4001)}), "4000"),
        (json!({"pinned_facts": vec!["a fact"; 21]}), "20"),
        (json!({"pinned_facts": ["y".repeat(201)]}), "200"),
    ] {
        let (status, body) = call(&s, &token, Method::PATCH, &path, Some(patch)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(bound),
            "{body}"
        );
    }
    let (_, after) = call(&s, &token, Method::GET, &path, None).await;
    assert_eq!(
        after["memory"], read["memory"],
        "a refused edit changes nothing"
    );

    let bob = s.server.token("bob").await;
    let (status, _) = call(
        &s,
        &bob,
        Method::PATCH,
        &path,
        Some(json!({"memory": "mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn turns_that_leave_a_small_window_are_summarised_into_the_memory() {
    let env = vec![
        ("LINK_RATE_LIMIT_PER_MINUTE", "1000".to_owned()),
        ("LINK_CONTEXT_WINDOW", "2048".to_owned()),
    ];
    let s = Stack::start_with(MockOpenAi::setup(), env).await;
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let path = format!("/v1/conversations/{id}");
    let long = "The fog on Baker Street was thick that night. ".repeat(20);
    for _ in 0..10 {
        let (status, body) = call(
            &s,
            &token,
            Method::POST,
            &format!("{path}/messages"),
            Some(json!({"content": long})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The summary runs after each reply, off its path: wait for it to land.
    let mut memory = Value::Null;
    for _ in 0..100 {
        let (_, read) = call(&s, &token, Method::GET, &path, None).await;
        memory = read["memory"].clone();
        if memory["covered_through"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(memory["covered_through"].is_string(), "{memory}");
    assert!(!memory["summary"].as_str().unwrap().is_empty(), "{memory}");
    let asked = s.mock.bodies().await;
    assert!(
        asked.iter().any(|b| b["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("You keep the memory")),
        "the summariser was asked"
    );
}
