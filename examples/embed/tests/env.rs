//! The embedding example, run as a user would: configured only by environment variables,
//! against the strict OpenAI mock; and refused with a clear message without a key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use link_testkit::openai::{KEY, MockOpenAi, REPLY};

fn example(database: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_link-embed-example"));
    command
        .args(["Sherlock Holmes", "Who are you?"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LINK_PERSONA_PROVIDER", "openai")
        .env("LINK_CHAT_PROVIDER", "openai")
        .env("LINK_DATABASE", database);
    command
}

#[test]
fn an_engine_from_environment_variables_chats() {
    let mock = MockOpenAi::setup().start_on_thread();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("link.sqlite");
    let output = example(&database)
        .env("OPENAI_BASE_URL", &mock.base_url)
        .env("OPENAI_API_KEY", KEY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(!lines[0].is_empty(), "the greeting comes first: {stdout}");
    assert_eq!(lines[1], REPLY);
    assert!(
        database.exists(),
        "the conversation went to the configured SQLite file"
    );
    assert_eq!(mock.calls(), 2, "one extraction, one chat turn");
}

#[test]
fn a_missing_key_for_openai_is_a_clear_error_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    // No key and OpenAI's own address: refused while the engine is built, before any request.
    let output = example(&dir.path().join("link.sqlite")).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("set OPENAI_API_KEY"), "{stderr}");
}
