//! `link --server URL` against a real `link-server` binary (dev auth, the same SQLite file
//! and mock upstream): minted and given tokens, streamed replies over SSE, error exit codes,
//! and the same conversations seen in-process for the same user name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::mock_openai::REPLY;
use support::{Server, World, entered, stop_slow_reply};

/// One HTTP/1.1 exchange on a fresh connection to `url` (`http://host:port`): the status
/// and the body. The CLI's tests have no HTTP client of their own, and need only this.
fn http(url: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let host = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\n{auth}content-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

/// The reply stored after the user's message in alice's conversation `id`, once the API
/// shows one; the bound only fails a test that would otherwise wait for ever.
fn stored_reply(url: &str, id: &str) -> String {
    let (status, minted) = http(
        url,
        "POST",
        "/v1/auth/token",
        None,
        r#"{"username":"alice"}"#,
    );
    assert_eq!(status, 200, "{minted}");
    let minted: Value = serde_json::from_str(&minted).unwrap();
    let token = minted["token"].as_str().unwrap();
    let start = Instant::now();
    loop {
        let path = format!("/v1/conversations/{id}");
        let (status, body) = http(url, "GET", &path, Some(token), "");
        assert_eq!(status, 200, "{body}");
        let conversation: Value = serde_json::from_str(&body).unwrap();
        if let Some(reply) = conversation["messages"][2]["content"].as_str() {
            return reply.to_owned();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no reply stored: {conversation}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_cli_talks_to_a_running_server() {
    let world = World::new();
    let server = Server::start(&world);
    let remote = |args: &[&str]| world.run(&server.args(args));

    // No --token: a dev token is minted for --user.
    let created = remote(&["chat", "Sherlock Holmes", "--json"]);
    created.ok();
    let id = created.json()["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = remote(&["chat", "-c", &id, "-m", "Who are you?"]);
    reply.ok();
    assert_eq!(reply.stdout, format!("{REPLY}\n"));
    let persona = remote(&["persona", "Ada Lovelace"]);
    persona.ok();
    assert_eq!(persona.json()["name"], "Ada Lovelace");

    // The in-process engine, as the same user, sees the server's conversation.
    let local = world.run(&["--user", "alice", "conversations", "--json"]);
    local.ok();
    assert_eq!(local.json()["conversations"][0]["id"], id.as_str());

    // Errors keep their meaning across HTTP.
    remote(&[
        "chat",
        "-c",
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "-m",
        "hi",
    ])
    .code_is(5);
    remote(&["chat", "-c", &id, "-m", "use up the quota"]).code_is(4);
    remote(&["chat", "-c", &id, "-m", " "]).code_is(2);
    remote(&["chat", "-c", "../auth/token", "-m", "hi"]).code_is(2);
    let bad_token = world.run(&[
        "--server",
        &server.url,
        "--token",
        "not-a-token",
        "conversations",
    ]);
    bad_token.code_is(3);
    assert!(!bad_token.stderr.contains("not-a-token"), "{bad_token:#?}");
    // Another user sees none of alice's conversations.
    let bob = world.run(&[
        "--server",
        &server.url,
        "--user",
        "bob",
        "conversations",
        "--json",
    ]);
    bob.ok();
    assert_eq!(bob.json()["conversations"].as_array().unwrap().len(), 0);
}

#[test]
fn an_unreachable_server_is_an_upstream_failure() {
    let world = World::new();
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let run = world.run(&["--server", &url, "--token", "t", "conversations"]);
    run.code_is(4);
    assert!(run.stderr.contains("cannot reach the server"), "{run:#?}");
}

#[test]
fn ctrl_c_stops_a_streamed_reply_from_the_server_and_the_part_is_kept() {
    let world = World::new();
    let server = Server::start(&world);
    let spawn = |args: &[&str]| world.pty(&server.args(args));
    let mut chat = spawn(&["chat", "Sherlock Holmes"]);
    let id = entered(&mut chat);
    chat.exp_string("you> ").unwrap();
    stop_slow_reply(&mut chat);
    chat.send_line("/quit").unwrap();
    chat.exp_eof().unwrap();

    // The server notices the client go at its next event, stops the model and stores the
    // part said: wait until the API shows it.
    let partial = stored_reply(&server.url, &id);
    assert!(partial.starts_with("word0 word1 word2"), "{partial}");
    let mut resumed = spawn(&["chat", "-c", &id]);
    resumed
        .exp_string("Sherlock Holmes: word0 word1 word2")
        .unwrap();
    resumed.exp_string("you> ").unwrap();
    resumed.send_control('d').unwrap();
    resumed.exp_eof().unwrap();
}
