//! A conversation's memory through the HTTP API of the real binary: `GET` includes it, the
//! owner edits the summary and pins facts with `PATCH` (bounded, a clear 400 beyond), the
//! model gets both as data, and turns that leave a small window are summarised into it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::Stack;
use support::mock_openai::MockOpenAi;

#[tokio::test]
async fn the_owner_reads_and_edits_the_memory_and_the_model_gets_it() {
    let env = vec![("LINK_RATE_LIMIT_PER_MINUTE", "1000".to_owned())];
    let s = Stack::start_with(MockOpenAi::setup(), env).await;
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let path = format!("/v1/conversations/{id}");
    let read = s.server.read(&token, &id).await;
    assert_eq!(read["memory"]["summary"], "");
    assert_eq!(read["memory"]["pinned_facts"], json!([]));

    let patch = json!({"memory": "Watson moved out.", "pinned_facts": ["The user is Sam.", " "]});
    let (status, updated) = s
        .server
        .call(&token, Method::PATCH, &path, Some(patch))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        updated["memory"]["pinned_facts"],
        json!(["The user is Sam."])
    );
    let read = s.server.read(&token, &id).await;
    assert_eq!(read["memory"]["summary"], "Watson moved out.");
    assert!(read["memory"]["updated_at"].is_string());

    s.server.send(&token, &id, "Who am I?").await;
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
        let (status, body) = s
            .server
            .call(&token, Method::PATCH, &path, Some(patch))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(bound), "{body}");
    }
    let after = s.server.read(&token, &id).await;
    assert_eq!(
        after["memory"], read["memory"],
        "a refused edit changes nothing"
    );

    let bob = s.server.token("bob").await;
    let mine = Some(json!({"memory": "mine"}));
    let (status, _) = s.server.call(&bob, Method::PATCH, &path, mine).await;
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
    let long = "The fog on Baker Street was thick that night. ".repeat(20);
    for _ in 0..10 {
        s.server.send(&token, &id, &long).await;
    }
    let memory = s.server.summarised_memory(&token, &id).await;
    assert!(!memory["summary"].as_str().unwrap().is_empty(), "{memory}");
    let asked = s.mock.bodies().await;
    let summariser_asked = asked.iter().any(|b| {
        let system = b["messages"][0]["content"].as_str().unwrap();
        system.contains("You keep the memory")
    });
    assert!(summariser_asked, "the summariser was asked");
}
