//! Running the real `link` binary (and `link-server`) against the mock OpenAI upstream.
#![allow(dead_code)]

pub use link_testkit::openai as mock_openai;

use std::io::Write;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use link_testkit::server::ServerProcess;
use mock_openai::MockOpenAi;
use serde_json::Value;

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

    /// Starts link-server in dev auth mode on the world's database and mock.
    pub fn start(world: &World) -> Self {
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
            .current_dir(world.dir.path());
        Self(ServerProcess::spawn(&mut command))
    }
}
