//! WAL checkpoints on a thread of their own, so that no request waits for one.
//!
//! In WAL mode a commit appends pages to the `-wal` file; a checkpoint copies them back into
//! the database file and syncs both. By default SQLite runs it inside whichever commit takes
//! the log past `wal_autocheckpoint` pages, so about one turn in a hundred under load waited
//! for a copy and two fsyncs (a p99 of 16-18 ms at one client, against a p50 of 1.3 ms). Here
//! a thread checkpoints every [`PERIOD`] in `PASSIVE` mode, which never blocks the writer or
//! the readers, and the writer's own threshold is raised to [`WRITER_THRESHOLD`]: only a
//! safety net for when this thread falls far behind.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use link_core::Result;
use rusqlite::Connection;

use crate::error::storage;

/// How often the thread checkpoints.
pub(crate) const PERIOD: Duration = Duration::from_millis(500);

/// The writer's own checkpoint threshold, in pages (64 MiB of 4 KiB pages).
pub(crate) const WRITER_THRESHOLD: u32 = 16_384;

/// Set to `true` (and notified) to stop the thread.
type StopSignal = Arc<(Mutex<bool>, Condvar)>;

/// The checkpointing thread of one database file; stops (after at most one checkpoint in
/// progress) when dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: StopSignal,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` on a connection of its own.
    pub(crate) fn start(path: &Path, busy_timeout: Duration) -> Result<Self> {
        let conn = Connection::open(path).map_err(storage("opening the checkpoint connection"))?;
        conn.busy_timeout(busy_timeout)
            .map_err(storage("setting the busy timeout"))?;
        let stop = StopSignal::default();
        let signal = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("link-store-checkpoint".into())
            .spawn(move || run(&conn, &signal))
            .map_err(|e| link_core::Error::storage(format!("starting the checkpointer: {e}")))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, stop: &(Mutex<bool>, Condvar)) {
    let (stopped, wake) = stop;
    let mut guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        guard = match wake.wait_timeout(guard, PERIOD) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        };
        if *guard {
            return;
        }
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "link-store: WAL checkpoint failed; retrying later");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Instant;

    use link_core::{Conversation, ConversationStore, Message, Persona, PersonaKind, Role};

    use crate::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn committed_pages_reach_the_database_file_without_any_request_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let persona = Persona::new(
            "Ada",
            PersonaKind::Historical,
            "A mathematician.",
            "Good day.",
        );
        let conversation = Conversation::new("alice", persona);
        store.create(&conversation, &[]).await.unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        let turn: Vec<Message> = (0..400)
            .map(|i| Message::new(Role::User, format!("message {i}: {}", "x".repeat(200))))
            .collect();
        store
            .append_all("alice", conversation.id, &turn)
            .await
            .unwrap();

        // Far below the writer's own threshold: only the background thread copies them.
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::metadata(&path).unwrap().len() <= before {
            assert!(Instant::now() < deadline, "no checkpoint within 10 s");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
