//! A local Amazon Cognito: moto_server on a free loopback port, set up by boto3 helper scripts
//! that each test crate keeps beside its tests.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What to do when moto or boto3 is missing.
pub const SETUP_HINT: &str =
    "run scripts/setup.sh (scripts/setup.d/20-moto.sh installs moto[server] and boto3)";

/// How long moto_server may take to start listening.
const START_LIMIT: Duration = Duration::from_secs(60);

/// moto's app under werkzeug without threads (HTTP/1.0, one request at a time).
const SERIAL_MOTO: &str = "import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple('127.0.0.1', int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)
";

/// A moto_server child process, killed when dropped.
pub struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// Starts moto_server and waits until it listens; fails (never skips) without it.
    pub fn start() -> Self {
        Self::spawn(|port| {
            let mut command = Command::new("moto_server");
            command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            command
        })
    }

    /// Starts moto's app serving one request at a time, and waits until it listens.
    /// moto_server serves each request on a thread of its own, and its DynamoDB is not
    /// thread-safe (a `TransactWriteItems` checks its conditions, writes, and on a failed
    /// condition restores a copy of the whole table, with no lock): concurrent writers there
    /// can lose each other's writes. One at a time, every request is atomic, as DynamoDB's are.
    pub fn start_serial() -> Self {
        Self::spawn(|port| {
            let mut command = Command::new("python3");
            command.args(["-c", SERIAL_MOTO, &port.to_string()]);
            command
        })
    }

    fn spawn(command: impl FnOnce(u16) -> Command) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = command(port)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto_server ({e}): {SETUP_HINT}"));
        let moto = Moto { child, port };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < START_LIMIT,
                "moto_server did not listen on {addr} within {START_LIMIT:?}: {SETUP_HINT}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs the Python helper `script` with this endpoint as its argument and returns the
    /// JSON it prints; fails with its stderr if it fails.
    pub fn run_helper(&self, script: &Path) -> Value {
        let output = Command::new("python3")
            .arg(script)
            .arg(self.endpoint())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap_or_else(|e| panic!("cannot run python3 ({e}): {SETUP_HINT}"));
        assert!(
            output.status.success(),
            "the boto3 helper {} failed ({SETUP_HINT}):\n{}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
