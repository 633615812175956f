//! Starting the real `link-server` binary for black-box tests.
#![allow(dead_code)]

pub mod api;
pub mod bedrock;
pub mod browser;
pub use link_testkit::openai as mock_openai;
pub mod moto;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use link_testkit::server::ServerProcess;
use serde_json::{Value, json};

/// A fixed dev secret, so tokens survive a restart of the server.
pub const DEV_SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

/// A running `link-server` process; killed on drop.
pub struct Server(ServerProcess);

impl Deref for Server {
    type Target = ServerProcess;

    fn deref(&self) -> &ServerProcess {
        &self.0
    }
}

/// How to start a server.
pub struct Options<'a> {
    /// The SQLite file.
    pub database: &'a Path,
    /// The mock OpenAI base URL.
    pub openai_base_url: &'a str,
    /// Extra environment variables.
    pub env: Vec<(&'a str, String)>,
}

impl Server {
    /// Starts the binary with dev auth and the OpenAI provider pointed at the mock, and waits
    /// for its "listening" line.
    pub fn start(options: Options<'_>) -> Self {
        Self(ServerProcess::spawn(&mut command(options)))
    }

    /// Runs the binary as [`Server::start`] would, for a configuration it must refuse: waits
    /// (at most a minute) for it to exit, and gives back its exit status and stderr.
    pub fn refused(options: Options<'_>) -> (std::process::ExitStatus, String) {
        let mut child = command(options)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("link-server started instead of refusing its configuration");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = child.wait_with_output().unwrap();
        (
            output.status,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// The audit lines logged so far.
    pub fn audit_lines(&self) -> Vec<String> {
        self.logs()
            .into_iter()
            .filter(|l| l.contains("AUDIT_LOG"))
            .collect()
    }

    /// Waits until some audit line contains `needle`.
    pub async fn wait_for_audit(&self, needle: &str) -> String {
        self.wait_for_log(|l| l.contains("AUDIT_LOG") && l.contains(needle))
            .await
    }

    /// Waits (10 s at most) until some log line matches: the server writes its log from a
    /// background thread, so a line may land a moment after the response that followed it.
    pub async fn wait_for_log(&self, matches: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Some(line) = self.logs().into_iter().find(|l| matches(l)) {
                return line;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no such log line: {:#?}", self.logs());
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub fn stop(self) -> bool {
        self.0.stop()
    }

    /// A dev token for `username`.
    pub async fn token(&self, username: &str) -> String {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/auth/token", self.url))
            .json(&json!({"username": username}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }
}

/// The binary with dev auth (`LINK_AUTH` unset) on 127.0.0.1 and the OpenAI provider pointed
/// at the mock, `options.env` on top.
fn command(options: Options<'_>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_link-server"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("RUST_LOG", "info")
        .env("LINK_LISTEN", "127.0.0.1:0")
        .env("LINK_DATABASE", options.database)
        .env("LINK_PERSONA_PROVIDER", "openai")
        .env("LINK_CHAT_PROVIDER", "openai")
        .env("OPENAI_BASE_URL", options.openai_base_url)
        .env("OPENAI_API_KEY", mock_openai::KEY)
        .env("LINK_DEV_SECRET", DEV_SECRET)
        .env("LINK_SHUTDOWN_GRACE_SECS", "2")
        .current_dir(std::env::temp_dir());
    for (key, value) in options.env {
        command.env(key, value);
    }
    command
}

/// A `link-server` on a fresh database, its upstream a mock OpenAI; all stop when dropped.
pub struct Stack {
    /// The server.
    pub server: Server,
    /// Its upstream.
    pub mock: mock_openai::MockOpenAi,
    /// Its SQLite file.
    pub database: PathBuf,
    env: Vec<(&'static str, String)>,
    _dir: tempfile::TempDir,
}

impl Stack {
    /// Starts the mock, then the server with `env` on top of the test defaults.
    pub async fn start(env: Vec<(&'static str, String)>) -> Self {
        Self::start_with(mock_openai::MockOpenAi::setup(), env).await
    }

    /// Starts a mock set up as `setup`, then the server with `env` on top of the defaults.
    pub async fn start_with(setup: mock_openai::Setup, env: Vec<(&'static str, String)>) -> Self {
        let mock = setup.start().await;
        let (dir, database) = temp_database();
        let server = Server::start(Options {
            database: &database,
            openai_base_url: &mock.base_url,
            env: env.clone(),
        });
        Self {
            server,
            mock,
            database,
            env,
            _dir: dir,
        }
    }

    /// Stops the server with SIGTERM and starts a new one on the same database, mock and
    /// environment; says whether the old one shut down cleanly.
    pub fn restart(self) -> (Self, bool) {
        let Self {
            server,
            mock,
            database,
            env,
            _dir,
        } = self;
        let clean = server.stop();
        let server = Server::start(Options {
            database: &database,
            openai_base_url: &mock.base_url,
            env: env.clone(),
        });
        let stack = Self {
            server,
            mock,
            database,
            env,
            _dir,
        };
        (stack, clean)
    }
}

/// The state of an in-process app over `link`: dev auth (tokens live an hour), no Cognito
/// accounts, no per-IP limit.
pub fn dev_state(link: link::Link) -> link_server::AppState {
    let dev = std::sync::Arc::new(link_auth::DevAuthenticator::random());
    link_server::AppState {
        link,
        auth: dev.clone(),
        dev: Some(link_server::state::DevTokens {
            authenticator: dev,
            lifetime: Duration::from_secs(3600),
        }),
        per_ip: None,
        accounts: None,
    }
}

/// A temporary directory and the database path inside it.
pub fn temp_database() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("link.sqlite");
    (dir, path)
}

/// Server-Sent Events parsed from a body: (event name, data) pairs.
pub fn parse_sse(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = "message".to_owned();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            (!data.is_empty()).then(|| (name, serde_json::from_str(&data).unwrap()))
        })
        .collect()
}
