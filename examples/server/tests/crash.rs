//! Crash consistency: several clients send turns at once (whole replies and streamed ones,
//! two of them into one shared conversation), the server is killed with SIGKILL in the middle
//! of the storm (streams half-way through their replies), and a new server on the same SQLite
//! file must hold every turn a client saw acknowledged, and no half-written turn.
//!
//! What "acknowledged" and "half-written" mean for the current store:
//! - A turn is *acknowledged* when its client got the reply: a 200 with the reply (JSON), or
//!   the SSE `done` event with the stored reply's `message_id` (streamed).
//! - The engine stores a finished turn, the user's message and the reply, with one
//!   `append_all`, which link-store commits as one SQLite transaction, after the model has
//!   answered and before the client is told (`persist_turn` in link-core's engine). Messages
//!   read back in insertion order. So a turn is in the store whole or not at all, and its two
//!   messages are adjacent even when turns of one conversation interleave.
//! - *Half-written* is therefore a user message that is not immediately followed by an
//!   assistant message, or an assistant reply without the user message before it. The one
//!   place the engine stores a user message alone is a streamed turn whose client went away
//!   before any text (`persist_partial`); no client of this test goes away, and a killed
//!   server runs no code at all, so here it never happens.
//! - A turn that was stored but whose acknowledgement the kill cut off may be there; it
//!   must be whole too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{Options, Server, mock_openai, parse_sse, temp_database};
use tokio::sync::Mutex;

/// Turns acknowledged before the kill: enough for a storm, few enough to take seconds.
const ACKNOWLEDGED_BEFORE_KILL: usize = 40;

/// Only there to fail a test whose storm never gets going.
const STORM_LIMIT: Duration = Duration::from_secs(60);

/// One turn a client saw acknowledged (or the store holds).
#[derive(Debug, Clone, PartialEq)]
struct Acknowledged {
    conversation: String,
    sent: String,
    reply_id: String,
    reply: String,
}

/// What the clients share: the turns acknowledged (in all, and streamed), and how many
/// streams are half-way (a delta received, no end yet).
#[derive(Default)]
struct Storm {
    acknowledged: Mutex<Vec<Acknowledged>>,
    count: AtomicUsize,
    streams_acknowledged: AtomicUsize,
    streams_midway: AtomicUsize,
}

/// How one client sends.
#[derive(Debug, Clone, Copy)]
enum Style {
    /// `POST .../messages` for a JSON reply.
    Whole,
    /// The same with `Accept: text/event-stream`; the mock streams a word every 60 ms (it
    /// answers "gradually" so), so that streams are in flight when the server dies.
    Streamed,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_turns_survive_a_sigkill_and_none_is_half_written() {
    let mock = mock_openai::MockOpenAi::setup().start().await;
    let (_dir, database) = temp_database();
    let env = vec![("LINK_RATE_LIMIT_PER_MINUTE", "1000000".to_owned())];
    let options = || Options {
        database: &database,
        openai_base_url: &mock.base_url,
        env: env.clone(),
    };
    let server = Server::start(options());

    let clients = prepare_clients(&server).await;
    let storm = Arc::new(Storm::default());
    let tasks: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(index, (token, conversation, style))| {
            let client = ClientRun {
                url: server.url.clone(),
                token: token.clone(),
                conversation: conversation.clone(),
                style: *style,
                name: format!("client {index}"),
            };
            tokio::spawn(client.run(storm.clone()))
        })
        .collect();

    wait_until_mid_storm(&storm).await;
    // Dropping the server kills its process with SIGKILL (`Child::kill`): no shutdown, no
    // cancellation, no code of the server runs after this line.
    drop(server);
    for task in tasks {
        tokio::time::timeout(STORM_LIMIT, task)
            .await
            .expect("a client did not notice the server had died")
            .unwrap();
    }
    let acknowledged = storm.acknowledged.lock().await.clone();

    let restarted = Server::start(options());
    assert_database_is_intact(&database);
    let mut conversations: Vec<(String, String)> = clients
        .iter()
        .map(|(token, conversation, _)| (token.clone(), conversation.clone()))
        .collect();
    conversations.dedup();
    let mut stored = Vec::new();
    for (token, conversation) in &conversations {
        let messages = restarted.read(token, conversation).await["messages"]
            .as_array()
            .unwrap()
            .clone();
        stored.extend(whole_turns(conversation, &messages));
    }
    eprintln!(
        "{} turns acknowledged before the kill ({} streamed), {} whole turns stored",
        acknowledged.len(),
        storm.streams_acknowledged.load(Ordering::SeqCst),
        stored.len()
    );
    for turn in &acknowledged {
        assert!(
            stored.iter().any(|s| s == turn),
            "an acknowledged turn is not in the store: {turn:#?}"
        );
    }
}

/// Six clients: three sending for whole replies and three streaming, each its own user
/// and conversation but for the last two, one user in one conversation.
async fn prepare_clients(server: &Server) -> Vec<(String, String, Style)> {
    let styles = [
        Style::Whole,
        Style::Streamed,
        Style::Whole,
        Style::Streamed,
        Style::Whole,
        Style::Streamed,
    ];
    let mut clients = Vec::new();
    for (index, style) in styles.into_iter().enumerate() {
        let shared = index == styles.len() - 1;
        let (token, conversation) = if shared {
            let (token, conversation, _): &(String, String, Style) = clients.last().unwrap();
            (token.clone(), conversation.clone())
        } else {
            let token = server.token(&format!("storm-user-{index}")).await;
            let conversation = server.conversation(&token, "Sherlock Holmes").await;
            (token, conversation)
        };
        clients.push((token, conversation, style));
    }
    clients
}

/// Waits until enough turns were acknowledged, streamed ones among them, and some stream is
/// half-way through its reply.
async fn wait_until_mid_storm(storm: &Storm) {
    let start = Instant::now();
    while storm.count.load(Ordering::SeqCst) < ACKNOWLEDGED_BEFORE_KILL
        || storm.streams_acknowledged.load(Ordering::SeqCst) == 0
        || storm.streams_midway.load(Ordering::SeqCst) == 0
    {
        assert!(
            start.elapsed() < STORM_LIMIT,
            "the storm never got going: {} acknowledged",
            storm.count.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// One client's loop: send turn after turn until the server is gone.
struct ClientRun {
    url: String,
    token: String,
    conversation: String,
    style: Style,
    name: String,
}

impl ClientRun {
    async fn run(self, storm: Arc<Storm>) {
        let http = Client::new();
        for turn in 0.. {
            let sent = match self.style {
                Style::Whole => format!("{}, turn {turn}: who did it?", self.name),
                Style::Streamed => format!("{}, turn {turn}: tell me gradually", self.name),
            };
            let request = http
                .post(format!(
                    "{}/v1/conversations/{}/messages",
                    self.url, self.conversation
                ))
                .bearer_auth(&self.token)
                .json(&json!({ "content": sent }));
            let outcome = match self.style {
                Style::Whole => whole(request).await,
                Style::Streamed => streamed(request, &storm).await,
            };
            match outcome {
                Outcome::Acknowledged { reply_id, reply } => {
                    let turn = Acknowledged {
                        conversation: self.conversation.clone(),
                        sent,
                        reply_id,
                        reply,
                    };
                    storm.acknowledged.lock().await.push(turn);
                    storm.count.fetch_add(1, Ordering::SeqCst);
                    if let Style::Streamed = self.style {
                        storm.streams_acknowledged.fetch_add(1, Ordering::SeqCst);
                    }
                }
                // A limit (per-user concurrency, the rate) may refuse a turn; it is not one.
                Outcome::Refused(
                    StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE,
                ) => {}
                Outcome::Refused(status) => {
                    panic!(
                        "{}: a turn was refused with {status} before the kill",
                        self.name
                    )
                }
                Outcome::ServerGone => return,
            }
        }
    }
}

enum Outcome {
    Acknowledged { reply_id: String, reply: String },
    Refused(StatusCode),
    ServerGone,
}

async fn whole(request: reqwest::RequestBuilder) -> Outcome {
    let Ok(response) = request.send().await else {
        return Outcome::ServerGone;
    };
    if response.status() != StatusCode::OK {
        return Outcome::Refused(response.status());
    }
    let Ok(body) = response.json::<Value>().await else {
        return Outcome::ServerGone;
    };
    Outcome::Acknowledged {
        reply_id: body["message"]["id"].as_str().unwrap().to_owned(),
        reply: body["message"]["content"].as_str().unwrap().to_owned(),
    }
}

/// Reads a streamed reply as it comes; counts the stream as half-way from its first delta
/// until it ends one way or the other.
async fn streamed(request: reqwest::RequestBuilder, storm: &Storm) -> Outcome {
    let request = request.header("accept", "text/event-stream");
    let Ok(mut response) = request.send().await else {
        return Outcome::ServerGone;
    };
    if response.status() != StatusCode::OK {
        return Outcome::Refused(response.status());
    }
    let mut body = String::new();
    let mut midway = false;
    let ended = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.push_str(&String::from_utf8_lossy(&chunk));
                if !midway && body.contains("event: delta") {
                    midway = true;
                    storm.streams_midway.fetch_add(1, Ordering::SeqCst);
                }
            }
            Ok(None) => break true,
            Err(_) => break false,
        }
    };
    if midway {
        storm.streams_midway.fetch_sub(1, Ordering::SeqCst);
    }
    if !ended {
        return Outcome::ServerGone;
    }
    let events = parse_sse(&body);
    let reply: String = events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, data)| data["text"].as_str().unwrap())
        .collect();
    match events.iter().find(|(name, _)| name == "done") {
        Some((_, done)) => Outcome::Acknowledged {
            reply_id: done["message_id"].as_str().unwrap().to_owned(),
            reply,
        },
        None => panic!("a stream ended without `done` before the kill: {body}"),
    }
}

/// The turns of a stored conversation, which must all be whole: the greeting first, then
/// pairs of a user message and the assistant's reply, nothing else.
fn whole_turns(conversation: &str, messages: &[Value]) -> Vec<Acknowledged> {
    let (greeting, turns) = messages.split_first().expect("no greeting stored");
    assert_eq!(greeting["role"], "assistant", "{messages:#?}");
    assert!(
        turns.len() % 2 == 0,
        "a half-written turn in {conversation}: {messages:#?}"
    );
    turns
        .chunks(2)
        .map(|pair| {
            assert!(
                pair[0]["role"] == "user" && pair[1]["role"] == "assistant",
                "a half-written turn in {conversation}: {pair:#?}"
            );
            Acknowledged {
                conversation: conversation.to_owned(),
                sent: pair[0]["content"].as_str().unwrap().to_owned(),
                reply_id: pair[1]["id"].as_str().unwrap().to_owned(),
                reply: pair[1]["content"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

/// SQLite's own check of the file the killed server left.
fn assert_database_is_intact(database: &std::path::Path) {
    let connection = rusqlite::Connection::open(database).unwrap();
    let verdict: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
}
