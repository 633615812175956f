//! Three real `link-server` processes sharing one DynamoDB table on a local moto_server
//! (made by `link-server admin create-table`), as replicas behind a load balancer would: one
//! truth for conversations and for the per-user rate limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use support::moto::Moto;
use support::{Options, Server, mock_openai, temp_database};

/// The two bursts of this file (60 sends, 600 appends) take turns: each alone already loads a
/// 2-core machine with three servers and the emulator.
static BURSTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The AWS settings that point the server's DynamoDB client at `moto`.
fn aws_env(moto: &Moto) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

/// Runs `link-server admin create-table --table TABLE` against `moto`; its stdout.
fn create_table(moto: &Moto, table: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_link-server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .envs(aws_env(moto))
        .args(["admin", "create-table", "--table", table])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "create-table failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Three servers on the table `table` of `moto`, one mock OpenAI upstream, `env` on top.
struct Replicas {
    servers: Vec<Server>,
    _mock: mock_openai::MockOpenAi,
    _dir: tempfile::TempDir,
    database: std::path::PathBuf,
}

impl Replicas {
    async fn start(moto: &Moto, table: &str, env: &[(&'static str, String)]) -> Self {
        let mock = mock_openai::MockOpenAi::setup().start().await;
        let (dir, database) = temp_database();
        let mut all = aws_env(moto);
        all.push(("LINK_STORE", "dynamodb".into()));
        all.push(("LINK_DYNAMODB_TABLE", table.into()));
        all.extend(env.iter().cloned());
        let servers = (0..3)
            .map(|_| {
                Server::start(Options {
                    database: &database,
                    openai_base_url: &mock.base_url,
                    env: all.clone(),
                })
            })
            .collect();
        Self {
            servers,
            _mock: mock,
            _dir: dir,
            database,
        }
    }
}

async fn call(
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Client::new()
        .request(method, format!("{}{path}", server.url))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Sends `content` to `id` through `server`; the status (after waiting out 503 `busy`
/// answers as a client told `Retry-After` would, at most a minute).
async fn send_retrying(server: &Server, token: &str, id: &str, content: &str) -> StatusCode {
    let started = Instant::now();
    loop {
        let path = format!("/v1/conversations/{id}/messages");
        let (status, _) = call(
            server,
            token,
            Method::POST,
            &path,
            Some(json!({"content": content})),
        )
        .await;
        if status != StatusCode::SERVICE_UNAVAILABLE || started.elapsed() > Duration::from_secs(60)
        {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_moves_freely_between_replicas() {
    let moto = Moto::start_serial();
    let stdout = create_table(&moto, "link-replicas");
    assert!(stdout.contains("link-replicas is ready"), "{stdout}");
    // Idempotent: the second run finds the table and changes nothing.
    create_table(&moto, "link-replicas");
    let replicas = Replicas::start(&moto, "link-replicas", &[]).await;
    let [a, b, c] = &replicas.servers[..] else {
        unreachable!()
    };
    let token = a.token("alice").await;

    // Created through the first...
    let id = a.conversation(&token, "Sherlock Holmes").await;
    // ...continued through the second...
    let reply = b.send(&token, &id, "Who took the pearl?").await;
    assert!(
        !reply["message"]["content"].as_str().unwrap().is_empty(),
        "{reply}"
    );
    // ...read, edited and deleted through the third.
    let read = c.read(&token, &id).await;
    let messages = read["messages"].as_array().unwrap();
    let asked = messages
        .iter()
        .find(|m| m["content"] == "Who took the pearl?")
        .unwrap_or_else(|| panic!("the second replica's message is missing: {read:#}"));
    assert_eq!(
        messages.last().unwrap()["content"],
        reply["message"]["content"]
    );
    let path = format!(
        "/v1/conversations/{id}/messages/{}",
        asked["id"].as_str().unwrap()
    );
    let (status, edited) = call(
        c,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"content": "Who took the ruby?"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let again = a.read(&token, &id).await;
    assert!(
        again["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["content"] == "Who took the ruby?"),
        "the edit through the third replica is not seen by the first: {again:#}"
    );
    let (status, _) = call(
        c,
        &token,
        Method::DELETE,
        &format!("/v1/conversations/{id}"),
        None,
    )
    .await;
    assert!(status.is_success(), "{status}");
    for server in [a, b] {
        let (status, _) = call(
            server,
            &token,
            Method::GET,
            &format!("/v1/conversations/{id}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // Nothing went to a SQLite file of its own.
    assert!(!replicas.database.exists(), "a replica opened SQLite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_sends_over_three_replicas_pass_one_shared_limit_of_25() {
    let _turn = BURSTS.lock().await;
    let moto = Moto::start_serial();
    create_table(&moto, "link-limit");
    // A reply costs 2 (see AuditAction::cost): 50 a minute is 25 replies.
    let env = [
        ("LINK_RATE_LIMIT_STORE", "dynamodb".to_owned()),
        // The emulator serves one request at a time: do not let requests through unlimited
        // while the limiter's calls queue behind the store's.
        ("LINK_RATE_LIMIT_WAIT_MS", "60000".to_owned()),
        // The RateLimiter port is synchronous: each check blocks a runtime worker until
        // DynamoDB answers. With twenty checks at once on the default two workers, a store
        // call whose connection the one-at-a-time emulator already accepted could not be
        // written until a check timed out (the emulator waiting for it meanwhile).
        ("TOKIO_WORKER_THREADS", "32".to_owned()),
        ("LINK_RATE_LIMIT_PER_MINUTE", "50".to_owned()),
        ("LINK_MAX_MODEL_CALLS_PER_USER", "0".to_owned()),
    ];
    let replicas = Replicas::start(&moto, "link-limit", &env).await;
    let servers = &replicas.servers;
    let token = servers[0].token("bob").await;
    let id = servers[0].conversation(&token, "Ada Lovelace").await;
    // Starting it cost 4, refilled at one per 1.2 s: wait until the allowance is whole again.
    tokio::time::sleep(Duration::from_secs(6)).await;

    let started = Instant::now();
    let sends = (0..60).map(|i| {
        let server = &servers[i % 3];
        let (token, id) = (&token, &id);
        async move {
            let path = format!("/v1/conversations/{id}/messages");
            let answer = call(
                server,
                token,
                Method::POST,
                &path,
                Some(json!({"content": format!("question {i}")})),
            )
            .await;
            (answer, started.elapsed())
        }
    });
    let timed = join_all(sends).await;
    let took = started.elapsed();
    let last_refusal = timed
        .iter()
        .filter(|((s, _), _)| s.as_u16() == 429)
        .map(|(_, t)| *t)
        .max();
    let answers: Vec<_> = timed.into_iter().map(|(answer, _)| answer).collect();
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for (status, _) in &answers {
        *by_status.entry(status.as_u16()).or_default() += 1;
    }
    // The allowance refills one reply every 2.4 s: the count is exact only if every request
    // was admitted before that (they are, by far, on this machine).
    let failed_open = servers
        .iter()
        .flat_map(|s| s.logs())
        .filter(|l| l.contains("rate limit unavailable"))
        .count();
    let refused = by_status.get(&429).copied().unwrap_or(0);
    // Admitted sends that lost the race for the conversation to the others more often than
    // the store retries are a 503 `busy` (try again), never anything else.
    let busy = answers
        .iter()
        .filter(|(s, body)| {
            *s == StatusCode::SERVICE_UNAVAILABLE && body["error"]["code"] == "busy"
        })
        .count();
    let stored = by_status.get(&200).copied().unwrap_or(0);
    let admitted = stored + busy;
    // The allowance refills one reply every 2.4 s. Here the emulator serves one request at
    // a time, so on a busy machine the 60 admissions can spread over more than that: exactly
    // 25 then, plus one for every 2.4 s the sends took (the figure is in the report).
    let refills = (took.as_secs_f64() / 2.4).floor() as usize;
    assert!(
        refused + admitted == 60 && failed_open == 0 && (25..=25 + refills).contains(&admitted),
        "{by_status:?} in {took:?} (the last refusal after {last_refusal:?}), failed open \
         {failed_open} times"
    );
    eprintln!("{admitted} of 60 admitted in {took:?}, {refused} refused, {busy} busy");
    // The sends used the allowance up: the read waits for it to refill (1.2 s a request).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let read = servers[2].read(&token, &id).await;
    let asked = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .count();
    assert_eq!(asked, stored, "every answered send stored, nothing else");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_through_three_replicas_lose_and_duplicate_nothing() {
    let _turn = BURSTS.lock().await;
    const PER_REPLICA: usize = 200;
    let moto = Moto::start_serial();
    create_table(&moto, "link-appends");
    let env = [
        ("LINK_RATE_LIMIT_PER_MINUTE", "100000".to_owned()),
        ("LINK_MAX_MODEL_CALLS_PER_USER", "0".to_owned()),
        // The emulator serves one request at a time and queues at most 128 connections:
        // each replica keeps its store calls to a few at once (the 600 sends stay concurrent).
        ("LINK_DYNAMODB_MAX_CONCURRENCY", "8".to_owned()),
        // 200 connections opened at once per replica on a busy 2-core machine: give each the
        // time to send its headers (the 10 s default closes the slowest before they do).
        ("LINK_HEADER_READ_TIMEOUT_SECS", "120".to_owned()),
    ];
    let replicas = Replicas::start(&moto, "link-appends", &env).await;
    let servers = &replicas.servers;
    let token = servers[0].token("carol").await;
    let id = servers[0].conversation(&token, "Marie Curie").await;
    let before = servers[0].read(&token, &id).await["messages"]
        .as_array()
        .unwrap()
        .len();

    let started = Instant::now();
    let sends = (0..3 * PER_REPLICA).map(|i| {
        let server = &servers[i % 3];
        let (token, id) = (&token, &id);
        async move {
            (
                i,
                send_retrying(server, token, id, &format!("append {i}")).await,
            )
        }
    });
    let answers = join_all(sends).await;
    let took = started.elapsed();
    let failed: Vec<_> = answers
        .iter()
        .filter(|(_, s)| *s != StatusCode::OK)
        .collect();
    assert!(failed.is_empty(), "sends failed: {failed:?}");

    let read = servers[1].read(&token, &id).await;
    let messages = read["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        before + 2 * 3 * PER_REPLICA,
        "took {took:?}"
    );
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for message in messages.iter().filter(|m| m["role"] == "user") {
        *seen
            .entry(message["content"].as_str().unwrap())
            .or_default() += 1;
    }
    for i in 0..3 * PER_REPLICA {
        assert_eq!(
            seen.get(format!("append {i}").as_str()),
            Some(&1),
            "append {i}"
        );
    }
    let ids: std::collections::HashSet<_> =
        messages.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), messages.len(), "a message id twice");
    eprintln!("{} appends through 3 replicas in {took:?}", 3 * PER_REPLICA);
}

#[test]
fn a_missing_table_or_table_name_is_refused_at_start_naming_the_fix() {
    let moto = Moto::start_serial();
    let refusal = |env: Vec<(&'static str, String)>| {
        let (_dir, database) = temp_database();
        let mut all = aws_env(&moto);
        all.push(("LINK_STORE", "dynamodb".into()));
        all.extend(env);
        let (status, stderr) = Server::refused(Options {
            database: Path::new(&database),
            openai_base_url: "http://127.0.0.1:9/v1",
            env: all,
        });
        assert!(!status.success(), "{stderr}");
        stderr
    };
    let unnamed = refusal(vec![]);
    assert!(
        unnamed.contains("LINK_STORE=dynamodb needs LINK_DYNAMODB_TABLE"),
        "{unnamed}"
    );
    let missing = refusal(vec![("LINK_DYNAMODB_TABLE", "nowhere".into())]);
    assert!(
        missing.contains("the table nowhere cannot be reached"),
        "{missing}"
    );
    assert!(
        missing.contains("link-server admin create-table --table nowhere"),
        "{missing}"
    );
}
