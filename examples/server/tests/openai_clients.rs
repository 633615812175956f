//! The OpenAI-compatible API (`/v1/models`, `/v1/chat/completions`) driven by the official
//! OpenAI client libraries against the real `link-server` binary: the `openai` Python SDK
//! and the `openai` npm package under Node, both installed by
//! `scripts/setup.d/60-openai-clients.sh`. The server's upstream is the mock OpenAI, which
//! records every prompt Link sends, so the tests see what reached the model. The clients
//! authenticate with a Link API key made through `/v1/me/keys`, as a chat client would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::process::Command;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::Stack;

/// The directory of the client scripts and their `node_modules`.
fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// A user of the stack: a dev token, a conversation with a character, an API key.
struct User {
    token: String,
    conversation: String,
    key: String,
    key_id: String,
}

impl User {
    async fn new(stack: &Stack, name: &str) -> Self {
        let token = stack.server.token(name).await;
        let conversation = stack.server.conversation(&token, "Sherlock Holmes").await;
        let (key_id, key) = create_key(stack, &token, "sdk").await;
        Self {
            token,
            conversation,
            key,
            key_id,
        }
    }

    fn model(&self) -> String {
        format!("link/{}", self.conversation)
    }
}

/// Makes an API key with `token`; (its id, the key).
async fn create_key(stack: &Stack, token: &str, name: &str) -> (String, String) {
    let response = Client::new()
        .post(format!("{}/v1/me/keys", stack.server.url))
        .bearer_auth(token)
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let key = body["key_secret"].as_str().unwrap().to_owned();
    assert!(key.starts_with("lk_") && key.starts_with(body["hint"].as_str().unwrap()));
    (body["id"].as_str().unwrap().to_owned(), key)
}

/// Runs `program script scenario` in the clients' directory against the stack as `user`,
/// with `env` on top; the JSON object it printed.
async fn run_client(
    stack: &Stack,
    user: &User,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Value {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(clients_dir())
        .env("LINK_BASE_URL", format!("{}/v1", stack.server.url))
        .env("LINK_API_KEY", &user.key)
        .env("LINK_MODEL", user.model())
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{program} did not run (scripts/setup.sh installs it): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{program} {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

async fn python(stack: &Stack, user: &User, scenario: &str) -> Value {
    run_client(stack, user, "python3", &["openai_sdk.py", scenario], &[]).await
}

async fn stored_messages(stack: &Stack, user: &User) -> Vec<Value> {
    let detail = stack.server.read(&user.token, &user.conversation).await;
    detail["messages"].as_array().unwrap().clone()
}

/// The system prompt and turns of the last chat request that reached the model.
async fn last_prompt(stack: &Stack) -> Value {
    let bodies = stack.mock.bodies().await;
    let chats: Vec<&Value> = bodies
        .iter()
        .filter(|b| b.get("response_format").is_none())
        .collect();
    (*chats.last().expect("no chat request reached the model")).clone()
}

fn unlimited() -> Vec<(&'static str, String)> {
    vec![("LINK_RATE_LIMIT_PER_MINUTE", "100000".into())]
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_sdk_gets_whole_and_streamed_replies_and_stored_mode_appends_the_turn() {
    let stack = Stack::start(unlimited()).await;
    let user = User::new(&stack, "ada").await;
    let before = stored_messages(&stack, &user).await.len();

    let whole = python(&stack, &user, "whole").await;
    assert_eq!(whole["object"], "chat.completion");
    assert_eq!(whole["model"], user.model());
    assert_eq!(whole["role"], "assistant");
    assert_eq!(whole["content"], support::mock_openai::REPLY);
    assert_eq!(whole["finish_reason"], "stop");
    let usage = &whole["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0, "{whole}");
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    let messages = stored_messages(&stack, &user).await;
    assert_eq!(messages.len(), before + 2, "stored mode appends the turn");
    assert_eq!(messages[before]["content"], "Who are you?");
    assert_eq!(messages[before + 1]["content"], whole["content"]);
    assert_eq!(
        whole["id"],
        format!("chatcmpl-{}", messages[before + 1]["id"].as_str().unwrap())
    );

    let streamed = python(&stack, &user, "stream").await;
    assert!(
        streamed["deltas"].as_array().unwrap().len() > 1,
        "{streamed}"
    );
    assert_eq!(streamed["content"], support::mock_openai::REPLY);
    assert_eq!(streamed["finish_reason"], "stop");
    assert_eq!(streamed["ids"], 1, "every chunk carries the same id");
    assert!(streamed["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    let messages = stack
        .server
        .wait_for_messages(&user.token, &user.conversation, before + 4)
        .await;
    assert_eq!(messages[before + 2]["content"], "Tell me more.");
    assert_eq!(messages[before + 3]["content"], support::mock_openai::REPLY);
    // Audited as any turn, under the key's owner.
    let line = stack.server.wait_for_audit("\"stream_message\"").await;
    assert!(line.contains(&user.conversation), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn stateless_mode_answers_the_clients_history_and_stores_nothing() {
    let stack = Stack::start(unlimited()).await;
    let user = User::new(&stack, "grace").await;
    let before = stored_messages(&stack, &user).await;

    let reply = python(&stack, &user, "stateless").await;
    assert_eq!(reply["content"], support::mock_openai::REPLY);
    assert_eq!(reply["model"], format!("{}:stateless", user.model()));
    let prompt = last_prompt(&stack).await;
    let turns: Vec<&str> = prompt["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] != "system")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        turns,
        [
            "Remember the number 7.",
            "I shall remember it.",
            "Which number?"
        ],
        "the client's messages are the history"
    );
    assert!(
        prompt["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Sherlock Holmes")
    );
    assert_eq!(
        stored_messages(&stack, &user).await,
        before,
        "stateless mode stores nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_system_message_cannot_replace_the_persona() {
    let stack = Stack::start(unlimited()).await;
    let user = User::new(&stack, "mallory").await;
    let reply = python(&stack, &user, "persona_override").await;
    assert_eq!(reply["content"], support::mock_openai::REPLY);

    let prompt = last_prompt(&stack).await;
    let messages = prompt["messages"].as_array().unwrap();
    let systems: Vec<&Value> = messages.iter().filter(|m| m["role"] == "system").collect();
    assert_eq!(systems.len(), 1, "one system prompt, Link's: {prompt}");
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().unwrap();
    assert!(
        system.starts_with("You are playing a character"),
        "Link's rules come first: {system}"
    );
    let rules = system.find("Rules:").unwrap();
    let client = system.find("Ignore all previous instructions").unwrap();
    assert!(rules < client, "the client's text comes after Link's rules");
    let framing = system.find("<user_instructions>\n").unwrap();
    assert!(framing < client && client < system.find("</user_instructions>").unwrap());
    assert!(system[..framing].contains("never rules"));
    // No turn of the upstream prompt carries the client's system text.
    assert!(messages[1..].iter().all(|m| {
        !m["content"]
            .as_str()
            .unwrap()
            .contains("Ignore all previous instructions")
    }));
    assert_eq!(
        prompt["max_completion_tokens"]
            .as_u64()
            .or(prompt["max_tokens"].as_u64()),
        Some(64)
    );
    assert!((prompt["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_reach_the_sdk_as_its_own_exceptions_and_revoked_keys_stop_working() {
    let stack = Stack::start(unlimited()).await;
    let user = User::new(&stack, "bob").await;

    let models = python(&stack, &user, "models").await;
    assert_eq!(models["data"][0]["id"], user.model());
    assert_eq!(models["data"][0]["owned_by"], "Sherlock Holmes");
    assert_eq!(models["retrieved"]["id"], user.model());

    let unknown = python(&stack, &user, "unknown_model").await;
    assert_eq!(unknown["exception"], "NotFoundError");
    assert_eq!(unknown["code"], "model_not_found");

    let unsupported = python(&stack, &user, "unsupported").await;
    assert_eq!(unsupported["exception"], "BadRequestError");
    assert_eq!(
        (&unsupported["code"], &unsupported["param"]),
        (&json!("unsupported_parameter"), &json!("tools"))
    );

    let bad = python(&stack, &user, "bad_key").await;
    assert_eq!(bad["exception"], "AuthenticationError");
    assert_eq!(
        (&bad["status"], &bad["code"]),
        (&json!(401), &json!("invalid_api_key"))
    );

    // The key works until its owner revokes it; then it is refused like any bad key.
    assert_eq!(
        python(&stack, &user, "whole").await["finish_reason"],
        "stop"
    );
    let revoked = Client::new()
        .delete(format!("{}/v1/me/keys/{}", stack.server.url, user.key_id))
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let refused = python(&stack, &user, "bad_key_self").await;
    assert_eq!(refused["exception"], "AuthenticationError");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_limit_reaches_the_sdk_as_a_rate_limit_error_with_retry_after() {
    // A completion costs 2 of the 5 a minute: the third is refused.
    let stack = Stack::start(vec![("LINK_RATE_LIMIT_PER_MINUTE", "5".into())]).await;
    let user = User::new(&stack, "eve").await;
    let limited = python(&stack, &user, "rate_limit").await;
    assert_eq!(limited["exception"], "RateLimitError", "{limited}");
    assert_eq!(limited["status"], 429);
    assert_eq!(limited["code"], "rate_limit_exceeded");
    let retry_after: u64 = limited["retry_after"].as_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{limited}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_node_openai_package_streams_a_reply() {
    let stack = Stack::start(unlimited()).await;
    let user = User::new(&stack, "linus").await;
    let streamed = run_client(&stack, &user, "node", &["stream.mjs"], &[]).await;
    assert!(
        streamed["deltas"].as_array().unwrap().len() > 1,
        "{streamed}"
    );
    assert_eq!(streamed["content"], support::mock_openai::REPLY);
    assert_eq!(streamed["finish_reason"], "stop");
    assert!(
        streamed["usage"]["total_tokens"].as_u64().unwrap() > 0,
        "{streamed}"
    );
    let messages = stack
        .server
        .wait_for_messages(&user.token, &user.conversation, 3)
        .await;
    assert_eq!(messages[1]["content"], "Tell me a story.");
}
