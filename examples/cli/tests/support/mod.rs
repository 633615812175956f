//! Running the real `link` binary (and `link-server`) against the mock OpenAI upstream.
#![allow(dead_code)]

pub use link_testkit::openai as mock_openai;

use std::io::Write;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use link::auth::dev_subject;
use link::sqlite::SqliteStore;
use link::{Conversation, ConversationId, ConversationStore, Message, UserPersona};
use link_testkit::server::ServerProcess;
use mock_openai::MockOpenAi;
use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};
use serde_json::Value;

/// Milliseconds any one expectation of a [`World::pty`] session may take (the engine starts
/// in well under a second); a bound that fails a stuck test, not a pause.
pub const TIMEOUT_MS: u64 = 20_000;

/// Waits for `session` to end and asserts it exited with 0.
pub fn exits_cleanly(session: &mut PtySession) {
    session.exp_eof().unwrap();
    match session.process().wait().unwrap() {
        WaitStatus::Exited(_, 0) => {}
        other => panic!("link did not exit cleanly: {other:?}"),
    }
}

/// The conversation id a chat session prints when it enters one.
pub fn entered(session: &mut PtySession) -> String {
    let (_, matched) = session.exp_regex("conversation [0-9a-f-]{36}").unwrap();
    matched.trim_start_matches("conversation ").to_owned()
}

/// Says "tell it slowly" (the mock's slow reply), stops the reply with Ctrl-C after three
/// words, and waits for the note that the part said is kept and for the next prompt.
pub fn stop_slow_reply(session: &mut PtySession) {
    session.send_line("tell it slowly").unwrap();
    session.exp_string("word2 ").unwrap();
    session.send_control('c').unwrap();
    session
        .exp_string("(stopped; the part already said is kept)")
        .unwrap();
    session.exp_string("you> ").unwrap();
}

/// A mock upstream, a temporary data directory, and `link` commands wired to both.
pub struct World {
    /// The mock OpenAI server.
    pub mock: MockOpenAi,
    /// Holds the database, history and exports.
    pub dir: tempfile::TempDir,
}

impl World {
    /// A fresh mock and an empty data directory.
    pub fn new() -> Self {
        Self {
            mock: MockOpenAi::setup().start_on_thread(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The SQLite file every command of this world shares.
    pub fn database(&self) -> PathBuf {
        self.dir.path().join("data").join("link.sqlite")
    }

    /// `link ARGS` for user `alice`, with the in-process engine on the mock, and no `.env`.
    pub fn link(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_link"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("USER", "alice")
            .env("LINK_DATABASE", self.database())
            .env("LINK_PERSONA_PROVIDER", "openai")
            .env("LINK_CHAT_PROVIDER", "openai")
            .env("OPENAI_BASE_URL", &self.mock.base_url)
            .env("OPENAI_API_KEY", mock_openai::KEY)
            // No .env of the developer's is read: the working directory is the temp dir.
            .current_dir(self.dir.path())
            .args(args);
        command
    }

    /// `link ARGS` in a pseudo-terminal (so the chat is interactive), without colour.
    pub fn pty(&self, args: &[&str]) -> PtySession {
        let mut command = self.link(args);
        command.env("TERM", "xterm").env("NO_COLOR", "1");
        spawn_command(command, Some(TIMEOUT_MS)).unwrap()
    }

    /// Runs `link ARGS` with `stdin` as input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self
            .link(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// Runs `link ARGS` with empty stdin.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    /// Alice's conversation `id` and its messages as the database holds them, read straight
    /// from the store (not through the CLI under test).
    pub fn stored(&self, id: &str) -> (Conversation, Vec<Message>) {
        let id: ConversationId = id.parse().unwrap();
        self.with_store(async |store, owner| {
            let conversation = store.get(owner, id).await.unwrap().unwrap();
            let messages = store.messages(owner, id, None).await.unwrap();
            (conversation, messages)
        })
    }

    /// Alice's default user persona as the database holds it.
    pub fn stored_user_persona(&self) -> Option<UserPersona> {
        self.with_store(async |store, owner| store.user_persona(owner).await.unwrap())
    }

    fn with_store<T>(&self, read: impl AsyncFnOnce(&SqliteStore, &str) -> T) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = SqliteStore::open(self.database()).await.unwrap();
            read(&store, &dev_subject("alice")).await
        })
    }

    /// Starts a conversation with `character` and gives its id.
    pub fn create(&self, character: &str) -> String {
        let run = self.run(&["chat", character, "--json"]);
        run.ok();
        run.json()["conversation_id"].as_str().unwrap().to_owned()
    }
}

/// A finished command.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

impl Run {
    /// Asserts exit code 0.
    pub fn ok(&self) -> &Self {
        self.code_is(0)
    }

    /// Asserts the exit code.
    pub fn code_is(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "{self:#?}");
        self
    }

    /// Stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:#?}"))
    }
}

/// A running `link-server` (the binary cargo built beside `link`); killed on drop.
pub struct Server(ServerProcess);

impl Deref for Server {
    type Target = ServerProcess;

    fn deref(&self) -> &ServerProcess {
        &self.0
    }
}

impl Server {
    /// The link-server binary next to ours. Cargo gives test binaries only their own
    /// package's executables, so this needs `cargo build -p link-server` (a workspace-wide
    /// `cargo test` builds it).
    pub fn binary() -> PathBuf {
        let ours = Path::new(env!("CARGO_BIN_EXE_link"));
        let server = ours.with_file_name(format!("link-server{}", std::env::consts::EXE_SUFFIX));
        assert!(
            server.exists(),
            "FAIL: {} is missing; run `cargo build -p link-server` (a workspace-wide cargo test builds it)",
            server.display()
        );
        server
    }

    /// `--server URL --user alice ARGS`: a command line for alice through this server.
    pub fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut full = vec!["--server", self.url.as_str(), "--user", "alice"];
        full.extend_from_slice(args);
        full
    }

    /// Starts link-server in dev auth mode on the world's database and mock.
    pub fn start(world: &World) -> Self {
        Self::start_with(world, &[])
    }

    /// [`Server::start`] with more environment variables, e.g. a higher rate limit.
    pub fn start_with(world: &World, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(Self::binary());
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", world.dir.path())
            .env("RUST_LOG", "info")
            .env("LINK_LISTEN", "127.0.0.1:0")
            .env("LINK_DATABASE", world.database())
            .env("LINK_PERSONA_PROVIDER", "openai")
            .env("LINK_CHAT_PROVIDER", "openai")
            .env("OPENAI_BASE_URL", &world.mock.base_url)
            .env("OPENAI_API_KEY", mock_openai::KEY)
            .env("LINK_SHUTDOWN_GRACE_SECS", "1")
            .current_dir(world.dir.path())
            .envs(env.iter().copied());
        Self(ServerProcess::spawn(&mut command))
    }
}
