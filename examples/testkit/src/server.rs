//! A `link-server` child process: its stderr followed for the "listening on" line and kept
//! as logs; killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the server may take to start listening.
const START_LIMIT: Duration = Duration::from_secs(60);

/// How long it may take to exit after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// A running server process; killed on drop.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Spawns `command` (a link-server with `LINK_LISTEN=127.0.0.1:0` and `RUST_LOG=info`,
    /// so that it logs the address it took) and waits for its "listening on" line.
    pub fn spawn(command: &mut Command) -> Self {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("link-server did not start");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or_default();
                    let _ = tx.send(addr.to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = rx.recv_timeout(START_LIMIT).unwrap_or_else(|_| {
            panic!(
                "link-server did not start listening: {:?}",
                logs.lock().unwrap()
            )
        });
        Self {
            child,
            url: format!("http://{addr}"),
            logs,
        }
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        while start.elapsed() < STOP_LIMIT {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
