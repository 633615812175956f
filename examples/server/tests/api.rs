//! Black-box tests: the real `link-server` binary on a free port, dev auth, SQLite in a temp
//! directory, and a mock OpenAI upstream speaking the real wire format.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures::StreamExt;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::mock_openai::{PROMPT_TOKENS, REPLY, completion_tokens};
use support::{Stack, parse_sse};

fn client() -> Client {
    Client::new()
}

/// A token for alice and the id of a new Sherlock Holmes conversation of hers.
async fn holmes_for_alice(s: &Stack) -> (String, String) {
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    (token, id)
}

/// Reads one conversation (with its messages) as JSON.
async fn read_conversation(url: &str, token: &str, id: &str) -> Value {
    client()
        .get(format!("{url}/v1/conversations/{id}"))
        .bearer_auth(token)
        .send_json()
        .await
}

/// Sends a request and parses the JSON answer, whatever its status.
trait SendJson {
    async fn send_json(self) -> Value;
}

impl SendJson for reqwest::RequestBuilder {
    async fn send_json(self) -> Value {
        self.send().await.unwrap().json().await.unwrap()
    }
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let status = response.status();
    let headers = response.headers().clone();
    let body: Value = response.json().await.unwrap();
    let code = body["error"]["code"].as_str().unwrap().to_owned();
    assert!(body["error"]["message"].is_string(), "{body}");
    (status, code, headers)
}

#[tokio::test]
async fn health_readiness_and_openapi() {
    let s = Stack::start(vec![]).await;
    let health: Value = client()
        .get(format!("{}/healthz", s.server.url))
        .send_json()
        .await;
    assert_eq!(health["status"], "ok");
    let ready = client()
        .get(format!("{}/readyz", s.server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let served: Value = client()
        .get(format!("{}/openapi.json", s.server.url))
        .send_json()
        .await;
    assert_eq!(served["openapi"], "3.1.0");
    assert!(served["paths"]["/v1/conversations/{id}/messages"]["post"].is_object());
    assert!(served["components"]["schemas"]["Persona"]["properties"]["greeting"].is_object());
    let checked_in: Value =
        serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json is checked in");
    assert_eq!(
        served, checked_in,
        "examples/server/openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p link-server openapi"
    );
    let missing = client()
        .get(format!("{}/nope", s.server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(missing).await.1, "not_found");
}

#[tokio::test]
async fn every_v1_route_needs_a_valid_bearer_token() {
    let s = Stack::start(vec![]).await;
    let url = &s.server.url;
    let id = "0190a0a0-0000-7000-8000-000000000000";
    let routes = [
        ("POST", "/v1/personas".to_owned()),
        ("POST", "/v1/conversations".to_owned()),
        ("GET", "/v1/conversations".to_owned()),
        ("GET", format!("/v1/conversations/{id}")),
        ("DELETE", format!("/v1/conversations/{id}")),
        ("POST", format!("/v1/conversations/{id}/messages")),
        ("POST", "/v1/chat".to_owned()),
        ("GET", format!("/v1/personas/{id}/card")),
        ("POST", "/v1/conversations/import".to_owned()),
    ];
    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJl";
    for (method, path) in routes {
        for token in [None, Some("not-a-jwt"), Some(forged)] {
            let mut request = client()
                .request(method.parse().unwrap(), format!("{url}{path}"))
                .json(&json!({}));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let (status, code, _) = error_of(request.send().await.unwrap()).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::UNAUTHORIZED, "unauthorized"),
                "{method} {path}"
            );
        }
    }
    assert_eq!(s.mock.calls(), 0);
    let logs = s.server.logs().join("\n");
    assert!(!logs.contains(forged), "a token reached the logs");
}

#[tokio::test]
async fn a_whole_conversation_over_json() {
    let s = Stack::start(vec![]).await;
    let token = s.server.token("alice").await;
    let url = &s.server.url;
    let persona: Value = client()
        .post(format!("{url}/v1/personas"))
        .bearer_auth(&token)
        .json(&json!({"request": "Ada Lovelace"}))
        .send_json()
        .await;
    assert_eq!(persona["name"], "Ada Lovelace");
    assert!(persona["description"].is_string());

    let conversation = s.server.create(&token, "Sherlock Holmes").await;
    let id = conversation["id"].as_str().unwrap().to_owned();
    assert_eq!(conversation["persona"]["name"], "Sherlock Holmes");
    let first = &conversation["messages"][0];
    assert_eq!(first["role"], "assistant");
    assert_eq!(first["content"], conversation["persona"]["greeting"]);
    for key in ["id", "created_at"] {
        assert!(first[key].is_string(), "message lacks {key}");
    }
    for key in ["created_at", "updated_at"] {
        assert!(conversation[key].is_string(), "conversation lacks {key}");
    }

    let response = client()
        .post(format!("{url}/v1/conversations/{id}/messages"))
        .bearer_auth(&token)
        .header("x-request-id", "req-abc-123")
        .json(&json!({"content": "Who took the jewels?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The id is the server's; the client's own is kept apart (see tests/request_id.rs).
    assert_ne!(response.headers()["x-request-id"], "req-abc-123");
    assert_eq!(response.headers()["x-client-request-id"], "req-abc-123");
    assert_eq!(response.headers()["ratelimit-limit"], "25");
    let reply: Value = response.json().await.unwrap();
    assert_eq!(reply["message"]["content"], REPLY);
    assert_eq!(reply["message"]["role"], "assistant");
    assert_eq!(reply["stop_reason"], "end_turn");
    assert_eq!(
        reply["usage"]["total_tokens"],
        PROMPT_TOKENS + completion_tokens(REPLY)
    );
    let audit = s.server.wait_for_audit("req-abc-123").await;
    assert!(audit.contains(r#""action":"send_message""#), "{audit}");
    assert!(audit.contains(r#""outcome":"ok""#), "{audit}");
    assert!(
        audit.contains("Who took the jewels?"),
        "full audit content by default: {audit}"
    );

    let read: Value = read_conversation(url, &token, &id).await;
    let contents: Vec<&str> = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents.len(), 3);
    assert_eq!(contents[1], "Who took the jewels?");
    assert_eq!(contents[2], REPLY);
    let newest = read_conversation(url, &token, &format!("{id}?last=1")).await;
    assert_eq!(newest["messages"].as_array().unwrap().len(), 1, "{newest}");
    assert_eq!(newest["messages"][0]["content"], REPLY);
    for bad in ["0", "many"] {
        let response = client()
            .get(format!("{url}/v1/conversations/{id}?last={bad}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_of(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "last={bad}"
        );
    }

    s.server.create(&token, "Ada Lovelace").await;
    let list: Value = client()
        .get(format!("{url}/v1/conversations"))
        .bearer_auth(&token)
        .send_json()
        .await;
    let names: Vec<&str> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["persona"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada Lovelace", "Sherlock Holmes"]);

    let deleted = client()
        .delete(format!("{url}/v1/conversations/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = client()
        .get(format!("{url}/v1/conversations/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(gone).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_users_conversation_is_not_found() {
    let s = Stack::start(vec![]).await;
    let alice = s.server.token("alice").await;
    let bob = s.server.token("bob").await;
    let id = s.server.conversation(&alice, "Sherlock Holmes").await;
    let url = &s.server.url;
    let requests = [
        client().get(format!("{url}/v1/conversations/{id}")),
        client().delete(format!("{url}/v1/conversations/{id}")),
        client()
            .post(format!("{url}/v1/conversations/{id}/messages"))
            .json(&json!({"content": "hi"})),
        client().get(format!("{url}/v1/personas/{id}/card")),
        client()
            .post(format!("{url}/v1/chat"))
            .json(&json!({"prompt": "hi", "conversation_id": id})),
    ];
    for request in requests {
        let (status, code, _) = error_of(request.bearer_auth(&bob).send().await.unwrap()).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found")
        );
    }
    let still: Value = read_conversation(url, &alice, &id).await;
    assert_eq!(still["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn replies_stream_as_server_sent_events() {
    let s = Stack::start(vec![]).await;
    let (token, id) = holmes_for_alice(&s).await;
    let response = client()
        .post(format!("{}/v1/conversations/{id}/messages", s.server.url))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .json(&json!({"content": "Tell me everything."}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = parse_sse(&response.text().await.unwrap());
    let (last, deltas) = events.split_last().unwrap();
    assert!(deltas.len() > 3, "{events:?}");
    assert!(
        deltas
            .iter()
            .all(|(name, data)| name == "delta" && data["text"].is_string())
    );
    let text: String = deltas
        .iter()
        .map(|(_, d)| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, REPLY);
    assert_eq!(last.0, "done");
    assert_eq!(last.1["stop_reason"], "end_turn");
    assert!(last.1["usage"]["output_tokens"].as_u64().unwrap() > 0);
    let message_id = last.1["message_id"].as_str().unwrap();
    let read: Value = client()
        .get(format!("{}/v1/conversations/{id}", s.server.url))
        .bearer_auth(&token)
        .send_json()
        .await;
    assert_eq!(read["messages"][2]["id"], message_id);
    assert_eq!(read["messages"][2]["content"], REPLY);
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_leaves_the_partial_reply_and_an_audit() {
    let s = Stack::start(vec![]).await;
    let (token, id) = holmes_for_alice(&s).await;
    let response = client()
        .post(format!("{}/v1/conversations/{id}/messages", s.server.url))
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .header("x-request-id", "drop-me")
        .json(&json!({"content": "Speak slowly, please."}))
        .send()
        .await
        .unwrap();
    let mut body = response.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("word2 ") {
        let chunk = body.next().await.unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(body);

    let audit = s.server.wait_for_audit("drop-me").await;
    assert!(audit.contains("cancelled"), "{audit}");
    let read: Value = client()
        .get(format!("{}/v1/conversations/{id}", s.server.url))
        .bearer_auth(&token)
        .send_json()
        .await;
    let messages = read["messages"].as_array().unwrap();
    assert_eq!(messages[1]["content"], "Speak slowly, please.");
    let partial = messages[2]["content"].as_str().unwrap();
    assert!(partial.starts_with("word0 word1 word2"), "{partial}");
    assert!(!partial.contains("word199"), "the stream was not cut short");
}

#[tokio::test]
async fn bad_requests_get_clear_statuses() {
    let s = Stack::start(vec![("LINK_MAX_BODY_BYTES", "1024".into())]).await;
    let token = s.server.token("alice").await;
    let url = &s.server.url;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let messages = format!("{url}/v1/conversations/{id}/messages");

    let big = json!({"content": "x".repeat(4000)});
    let (status, code, _) = error_of(
        client()
            .post(&messages)
            .bearer_auth(&token)
            .json(&big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );

    let plain = client()
        .post(&messages)
        .bearer_auth(&token)
        .body("{\"content\":\"hi\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(plain).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let malformed = client()
        .post(&messages)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"content\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(malformed).await.0, StatusCode::BAD_REQUEST);

    let wrong_shape = client()
        .post(&messages)
        .bearer_auth(&token)
        .json(&json!({"text": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(wrong_shape).await.0, StatusCode::BAD_REQUEST);

    let empty = client()
        .post(&messages)
        .bearer_auth(&token)
        .json(&json!({"content": "  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(empty).await.1, "invalid_request");

    let bad_id = client()
        .get(format!("{url}/v1/conversations/not-an-id"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(bad_id).await.0, StatusCode::BAD_REQUEST);

    let both = client()
        .post(format!("{url}/v1/conversations"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(both).await.0, StatusCode::BAD_REQUEST);

    let invalid = json!({"persona": {"name": "", "kind": "original", "living": null, "description": "x",
        "personality": "", "speaking_style": "", "setting": "", "knowledge": "", "must_not_know": "",
        "greeting": "", "example_lines": [], "safety_notes": null}});
    let invalid = client()
        .post(format!("{url}/v1/conversations"))
        .bearer_auth(&token)
        .json(&invalid)
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(invalid).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_persona")
    );

    let wrong_method = client()
        .put(format!("{url}/v1/conversations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(wrong_method).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );

    // Nothing of the failed requests was stored.
    let read: Value = read_conversation(url, &token, &id).await;
    assert_eq!(read["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn upstream_failures_and_filters_map_to_gateway_statuses() {
    let s = Stack::start(vec![]).await;
    let (token, id) = holmes_for_alice(&s).await;
    let messages = format!("{}/v1/conversations/{id}/messages", s.server.url);
    let send = |content: &'static str| {
        client()
            .post(&messages)
            .bearer_auth(&token)
            .json(&json!({"content": content}))
            .send()
    };

    let (status, code, _) = error_of(send("use up the quota").await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_GATEWAY, "upstream_error")
    );

    let (status, _, headers) = error_of(send("you are overloaded").await.unwrap()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "1");

    let (status, code, _) = error_of(send("a forbidden topic").await.unwrap()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "content_filtered")
    );

    let stream = client()
        .post(&messages)
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .json(&json!({"content": "use up the quota"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        stream.status(),
        StatusCode::BAD_GATEWAY,
        "a failure before the first token is a status"
    );
}

#[tokio::test]
async fn the_limit_denies_with_retry_after_and_ratelimit_headers() {
    let s = Stack::start(vec![("LINK_RATE_LIMIT_PER_MINUTE", "3".into())]).await;
    let alice = s.server.token("alice").await;
    let list = format!("{}/v1/conversations", s.server.url);
    for remaining in ["2", "1", "0"] {
        let ok = client()
            .get(&list)
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()["ratelimit-remaining"], remaining);
    }
    let (status, code, headers) = error_of(
        client()
            .get(&list)
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    assert_eq!(headers["ratelimit-limit"], "3");
    assert_eq!(headers["ratelimit-remaining"], "0");
    let bob = s.server.token("bob").await;
    assert_eq!(
        client()
            .get(&list)
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    s.server.wait_for_audit("rate_limited").await;
}

#[tokio::test]
async fn cards_export_and_import_and_the_seed_chat_endpoint_routes() {
    let s = Stack::start(vec![]).await;
    let token = s.server.token("alice").await;
    let url = &s.server.url;
    let chat = |body: Value| {
        client()
            .post(format!("{url}/v1/chat"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let created: Value = chat(json!({"prompt": "Sherlock Holmes"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["persona"]["name"], "Sherlock Holmes");
    assert_eq!(created["completion"], created["persona"]["greeting"]);
    let id = created["conversation_id"].as_str().unwrap().to_owned();
    let replied: Value = chat(json!({"prompt": "What now?", "conversation_id": id}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replied["completion"], REPLY);
    assert_eq!(replied["conversation_id"], id.as_str());

    let mut card: Value = client()
        .get(format!("{url}/v1/personas/{id}/card"))
        .bearer_auth(&token)
        .send_json()
        .await;
    assert_eq!(card["spec"], "chara_card_v2");
    assert_eq!(card["data"]["name"], "Sherlock Holmes");
    card["data"]["extensions"]["someone_else"] = json!({"keep": true});
    let imported = client()
        .post(format!("{url}/v1/conversations/import"))
        .bearer_auth(&token)
        .json(&card)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), StatusCode::CREATED);
    let imported: Value = imported.json().await.unwrap();
    let new_id = imported["id"].as_str().unwrap();
    assert_ne!(new_id, id);
    let again: Value = client()
        .get(format!("{url}/v1/personas/{new_id}/card"))
        .bearer_auth(&token)
        .send_json()
        .await;
    assert_eq!(again["data"]["extensions"]["someone_else"]["keep"], true);

    let not_a_card = client()
        .post(format!("{url}/v1/conversations/import"))
        .bearer_auth(&token)
        .json(&json!({"spec": "something"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(not_a_card).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn conversations_survive_a_restart() {
    let s = Stack::start(vec![]).await;
    let token = s.server.token("alice").await;
    let id = s.server.conversation(&token, "Sherlock Holmes").await;
    let (s, clean) = s.restart();
    assert!(clean, "the server did not shut down cleanly on SIGTERM");
    let read = client()
        .get(format!("{}/v1/conversations/{id}", s.server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.status(),
        StatusCode::OK,
        "the token and the conversation outlive the process"
    );
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["persona"]["name"], "Sherlock Holmes");
    assert_eq!(read["messages"].as_array().unwrap().len(), 1);
}
