//! A local Amazon Cognito: moto_server on a free loopback port, with a user pool and an app
//! client (with a secret) made by the boto3 helper `tests/cognito_pool.py`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const SETUP_HINT: &str =
    "run scripts/setup.sh (scripts/setup.d/20-moto.sh installs moto[server] and boto3)";

/// A moto_server child process, killed when dropped.
pub struct Moto {
    child: Child,
    port: u16,
}

/// The pool and app client the helper made.
pub struct Pool {
    /// Its region.
    pub region: String,
    /// The user pool id.
    pub pool_id: String,
    /// The app client id.
    pub client_id: String,
    /// The app client secret.
    pub client_secret: String,
}

impl Moto {
    /// Starts moto_server and waits until it listens.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto_server ({e}): {SETUP_HINT}"));
        let moto = Moto { child, port };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not listen on {addr}: {SETUP_HINT}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a pool and an app client with a secret.
    pub fn create_pool(&self) -> Pool {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cognito_pool.py");
        let output = Command::new("python3")
            .arg(script)
            .arg(self.endpoint())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap_or_else(|e| panic!("cannot run python3 ({e}): {SETUP_HINT}"));
        assert!(
            output.status.success(),
            "the boto3 helper failed ({SETUP_HINT}):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        let text = |name: &str| json[name].as_str().unwrap().to_owned();
        Pool {
            region: text("region"),
            pool_id: text("pool_id"),
            client_id: text("client_id"),
            client_secret: text("client_secret"),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
