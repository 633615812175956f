//! Group commit: the writes that arrive while the writer is busy share one transaction.
//!
//! SQLite has one writer, and in WAL mode each commit appends to the log and takes the
//! write lock, file locks and thread wake-ups with it. Under concurrency (32 clients each
//! committing a turn) that was one commit per turn. Here a write joins a queue; if no runner
//! is at work, it starts one on tokio's blocking pool (the one hand-off a write always had).
//! The runner takes every queued write, up to [`MAX_GROUP`], and runs them in one
//! `BEGIN IMMEDIATE … COMMIT`, each inside its own `SAVEPOINT`: a write that fails (not
//! found, changed meanwhile, a constraint, a panic) is rolled back to its savepoint and gets
//! its own error, while the others commit. Then it takes the writes that queued meanwhile,
//! until the queue is empty. At one client every group is a group of one: no savepoint, no
//! timer, no waiting for company, the same transaction as before.
//!
//! Each caller gets exactly its own result, and only once its group committed: if the
//! `COMMIT` fails, every write of the group gets that error and none of them is stored.
//!
//! Cancellation: a write whose caller stops waiting (its future dropped) still runs with its
//! group and may commit, as a write did before once its blocking task had started; it never
//! holds up or breaks the group.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use link_core::{Error, Result};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::{Mutex as AsyncMutex, oneshot};

use crate::error::storage;

/// The most writes one transaction holds; the rest wait for the next one, so a commit stays
/// short however many writes queue up.
pub(crate) const MAX_GROUP: usize = 64;

/// A queued write: runs once inside the group's transaction, then hears how the group ended.
trait Pending: Send {
    /// Runs the write on `tx`; whether it succeeded.
    fn run(&mut self, tx: &Transaction<'_>) -> bool;

    /// Sends the caller its result: its own error, or `ended`'s if its group was not stored.
    fn finish(self: Box<Self>, ended: std::result::Result<(), &Error>);
}

/// A write of type `T` and the caller waiting for it.
struct Write<T, F> {
    job: Option<F>,
    outcome: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Pending for Write<T, F>
where
    T: Send,
    F: FnOnce(&Transaction<'_>) -> Result<T> + Send,
{
    fn run(&mut self, tx: &Transaction<'_>) -> bool {
        let outcome = match self.job.take() {
            // A panic is this write's error; its savepoint is rolled back like any failure.
            Some(job) => catch_unwind(AssertUnwindSafe(|| job(tx))).unwrap_or_else(panicked),
            None => Err(Error::storage("a write was run twice")),
        };
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn finish(self: Box<Self>, ended: std::result::Result<(), &Error>) {
        let result = match (self.outcome, ended) {
            (Some(Err(own)), _) => Err(own),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(group)) => Err(group.clone()),
            (None, Ok(())) => Err(Error::storage("a write was never run")),
        };
        // The caller may have stopped waiting; the write's fate is the same either way.
        let _ = self.reply.send(result);
    }
}

/// The error for a write that panicked, with the panic's message when it has one.
fn panicked<T>(payload: Box<dyn std::any::Any + Send>) -> Result<T> {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(message, "link-store: a write panicked; it was rolled back");
    Err(Error::storage(format!(
        "storage task failed: a write panicked: {message}"
    )))
}

/// The writes waiting for the writer, and whether a runner is taking them.
#[derive(Default)]
struct State {
    queue: VecDeque<Box<dyn Pending>>,
    running: bool,
}

/// What the callers and the runner share.
struct Shared {
    writer: Arc<AsyncMutex<Connection>>,
    state: Mutex<State>,
    counts: Counts,
}

/// Transactions committed, and the writes stored by them.
#[derive(Default)]
struct Counts {
    commits: AtomicU64,
    stored: AtomicU64,
}

impl Counts {
    /// Counts a commit that stored `stored` writes.
    fn committed(&self, stored: u64) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.stored.fetch_add(stored, Ordering::Relaxed);
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // The lock is never held across a write or a panic-prone call; a poisoned one is fine.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next group (at most [`MAX_GROUP`] writes, oldest first), or `None` after marking
    /// the runner stopped when the queue is empty.
    fn next_group(&self) -> Option<Vec<Box<dyn Pending>>> {
        let mut state = self.state();
        if state.queue.is_empty() {
            state.running = false;
            return None;
        }
        let take = state.queue.len().min(MAX_GROUP);
        Some(state.queue.drain(..take).collect())
    }
}

/// The queue of writes to one database's writer connection, committed in groups.
pub(crate) struct CommitQueue {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CommitQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.state();
        f.debug_struct("CommitQueue")
            .field("queued", &state.queue.len())
            .field("running", &state.running)
            .finish()
    }
}

impl CommitQueue {
    /// A queue of writes to `writer`, which it locks for each group it runs.
    pub(crate) fn new(writer: Arc<AsyncMutex<Connection>>) -> Self {
        Self {
            shared: Arc::new(Shared {
                writer,
                state: Mutex::default(),
                counts: Counts::default(),
            }),
        }
    }

    /// Runs `job` in a write transaction shared with the writes queued beside it, and returns
    /// its result once that transaction committed (or its error, and nothing of it stored).
    ///
    /// `job` must leave the transaction open (no `COMMIT`, `ROLLBACK` or `RELEASE` of a
    /// savepoint it did not make).
    pub(crate) async fn write<T, F>(&self, job: F) -> Result<T>
    where
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let write = Box::new(Write {
            job: Some(job),
            outcome: None,
            reply,
        });
        if self.enqueue(write) {
            self.start_runner();
        }
        result
            .await
            .unwrap_or_else(|_| Err(Error::storage("the writer stopped before this write ran")))
    }

    /// Queues `write`; whether no runner was at work (the caller then starts one).
    fn enqueue(&self, write: Box<dyn Pending>) -> bool {
        let mut state = self.shared.state();
        state.queue.push_back(write);
        !std::mem::replace(&mut state.running, true)
    }

    fn start_runner(&self) {
        let runner = Runner {
            shared: Arc::clone(&self.shared),
            finished: false,
        };
        // Not awaited: the runner serves every queued write, whoever stops waiting.
        drop(tokio::task::spawn_blocking(move || runner.run()));
    }

    /// How many transactions committed, and how many writes they stored.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (u64, u64) {
        let counts = &self.shared.counts;
        (
            counts.commits.load(Ordering::Relaxed),
            counts.stored.load(Ordering::Relaxed),
        )
    }

    /// How many writes wait for the runner.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.shared.state().queue.len()
    }
}

/// Takes groups off the queue until it is empty, on a blocking thread.
struct Runner {
    shared: Arc<Shared>,
    finished: bool,
}

impl Runner {
    fn run(mut self) {
        while let Some(group) = self.shared.next_group() {
            let mut conn = self.shared.writer.blocking_lock();
            run_group(&mut conn, group, &self.shared.counts);
        }
        self.finished = true;
    }
}

impl Drop for Runner {
    /// A runner that never ran (the runtime shutting down) or died half-way must not leave
    /// writes waiting forever: they are dropped, and their callers get an error.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let abandoned: Vec<_> = {
            let mut state = self.shared.state();
            state.running = false;
            state.queue.drain(..).collect()
        };
        tracing::error!(
            abandoned = abandoned.len(),
            "link-store: the writer stopped; queued writes fail"
        );
    }
}

/// Runs `group` in one transaction (in more only if SQLite ended one itself half-way) and
/// sends every caller its result.
fn run_group(conn: &mut Connection, group: Vec<Box<dyn Pending>>, counts: &Counts) {
    // A group of one needs no savepoint: if it fails, its transaction rolls back.
    let isolate = group.len() > 1;
    let mut rest = group.into_iter();
    while rest.len() > 0 {
        run_transaction(conn, &mut rest, isolate, counts);
    }
}

/// Runs writes from `rest` in one transaction until none is left or the transaction is
/// lost, then commits the ones that succeeded.
fn run_transaction(
    conn: &mut Connection,
    rest: &mut std::vec::IntoIter<Box<dyn Pending>>,
    isolate: bool,
    counts: &Counts,
) {
    // IMMEDIATE takes the write lock at once, so no statement has to upgrade a read lock
    // half-way (which can fail with SQLITE_BUSY regardless of the busy timeout).
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let error = storage("starting a write transaction")(e);
            rest.for_each(|write| write.finish(Err(&error)));
            return;
        }
    };
    let mut ran = Vec::with_capacity(rest.len());
    let mut succeeded = 0;
    for mut write in rest.by_ref() {
        let step = run_one(&tx, write.as_mut(), isolate);
        ran.push(write);
        match step {
            Ok(true) => succeeded += 1,
            Ok(false) => {}
            // What ran so far is gone or cannot be trusted: rolled back, each told so.
            Err(lost) => return end(ran, Err(&lost)),
        }
    }
    if succeeded == 0 {
        // Nothing to store; dropping the transaction rolls it back.
        return end(ran, Ok(()));
    }
    match tx.commit() {
        Ok(()) => {
            counts.committed(succeeded);
            end(ran, Ok(()));
        }
        Err(e) => end(ran, Err(&storage("committing a group of writes")(e))),
    }
}

/// Sends each of `ran` its result, `ended` being how its transaction ended.
fn end(ran: Vec<Box<dyn Pending>>, ended: std::result::Result<(), &Error>) {
    for write in ran {
        write.finish(ended);
    }
}

/// Runs `write` on `tx`, in a savepoint of its own if `isolate`: whether it succeeded, or an
/// error if the transaction itself was lost (SQLite rolls a transaction back on its own
/// after some failures: a full disk, an I/O error, out of memory).
fn run_one(tx: &Transaction<'_>, write: &mut dyn Pending, isolate: bool) -> Result<bool> {
    let succeeded = if isolate {
        in_savepoint(tx, write).map_err(storage("isolating a write in its group"))?
    } else {
        write.run(tx)
    };
    if tx.is_autocommit() {
        return Err(Error::storage(
            "SQLite rolled back the write transaction; the writes of its group were not stored",
        ));
    }
    Ok(succeeded)
}

/// Runs `write` inside `SAVEPOINT link_write`, rolled back to it if the write failed.
fn in_savepoint(tx: &Transaction<'_>, write: &mut dyn Pending) -> rusqlite::Result<bool> {
    execute(tx, "SAVEPOINT link_write")?;
    let succeeded = write.run(tx);
    if !succeeded {
        execute(tx, "ROLLBACK TO link_write")?;
    }
    execute(tx, "RELEASE link_write")?;
    Ok(succeeded)
}

fn execute(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use link_core::{
        Conversation, ConversationId, ConversationStore, Message, MessageId, Persona, PersonaKind,
        Role, Splice,
    };
    use tokio::task::JoinHandle;

    use super::*;
    use crate::SqliteStore;

    const OWNER: &str = "alice";

    async fn store_with(
        conversations: usize,
    ) -> (SqliteStore, Vec<ConversationId>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("link.db")).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..conversations {
            let persona = Persona::new(format!("P{i}"), PersonaKind::Original, "x", "Hello!");
            let conversation = Conversation::new(OWNER, persona);
            let greeting = Message::new(Role::Assistant, "Hello!");
            store.create(&conversation, &[greeting]).await.unwrap();
            ids.push(conversation.id);
        }
        (store, ids, dir)
    }

    fn queue(store: &SqliteStore) -> &CommitQueue {
        store.pool().commit_queue()
    }

    /// Occupies the writer with a write that waits until the returned sender is used.
    async fn hold_writer(store: &SqliteStore) -> (mpsc::Sender<()>, JoinHandle<Result<()>>) {
        let (release, wait) = mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let store = store.clone();
        let held = tokio::spawn(async move {
            store
                .pool()
                .write(move |_| {
                    started.send(()).unwrap();
                    wait.recv().unwrap();
                    Ok(())
                })
                .await
        });
        running.await.unwrap();
        (release, held)
    }

    /// Waits until `n` writes are queued behind the held writer.
    async fn until_queued(store: &SqliteStore, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while queue(store).queued() < n {
            assert!(Instant::now() < deadline, "the writes never queued");
            tokio::task::yield_now().await;
        }
    }

    fn splice(store: &SqliteStore, id: ConversationId, splice: Splice) -> JoinHandle<Result<()>> {
        let store = store.clone();
        tokio::spawn(async move { store.splice(OWNER, id, &splice).await })
    }

    fn append(store: &SqliteStore, id: ConversationId, text: &str) -> JoinHandle<Result<()>> {
        splice(
            store,
            id,
            Splice::default().append(Message::new(Role::User, text)),
        )
    }

    async fn contents(store: &SqliteStore, id: ConversationId) -> Vec<String> {
        let messages = store.messages(OWNER, id, None).await.unwrap();
        messages.into_iter().map(|m| m.content).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_that_queue_behind_a_busy_writer_commit_in_one_transaction() {
        let (store, ids, _dir) = store_with(10).await;
        let (commits, stored) = queue(&store).counts();
        let (release, held) = hold_writer(&store).await;
        let appends: Vec<_> = ids.iter().map(|id| append(&store, *id, "queued")).collect();
        until_queued(&store, ids.len()).await;
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        for appended in appends {
            appended.await.unwrap().unwrap();
        }
        // The held write committed alone, the ten queued behind it together.
        assert_eq!(queue(&store).counts(), (commits + 2, stored + 11));
        for id in &ids {
            assert_eq!(contents(&store, *id).await, ["Hello!", "queued"]);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writes_take_fewer_commits_than_writes() {
        let (store, ids, _dir) = store_with(32).await;
        let (commits, stored) = queue(&store).counts();
        let start = Arc::new(tokio::sync::Barrier::new(ids.len()));
        let mut tasks = tokio::task::JoinSet::new();
        for id in ids.iter().copied() {
            let (store, start) = (store.clone(), Arc::clone(&start));
            tasks.spawn(async move {
                start.wait().await;
                let message = Message::new(Role::User, "at once");
                store.append(OWNER, id, &message).await
            });
        }
        while let Some(appended) = tasks.join_next().await {
            appended.unwrap().unwrap();
        }
        let (commits, stored) = {
            let (c, s) = queue(&store).counts();
            (c - commits, s - stored)
        };
        assert_eq!(stored, 32);
        assert!(commits < stored, "{commits} commits for {stored} writes");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_gets_its_own_error_and_the_rest_of_its_group_commit() {
        let (store, ids, _dir) = store_with(4).await;
        let (commits, stored) = queue(&store).counts();
        let (release, held) = hold_writer(&store).await;
        let first = append(&store, ids[0], "first");
        let stale = splice(
            &store,
            ids[1],
            Splice::default()
                .expect_last(MessageId::new())
                .append(Message::new(Role::User, "stale")),
        );
        let missing = append(&store, ConversationId::new(), "nowhere");
        // Its first message is inserted, then the duplicate fails: both must be undone.
        let twice = Message::new(Role::User, "twice");
        let duplicate = splice(
            &store,
            ids[2],
            Splice::default().append(twice.clone()).append(twice),
        );
        let panics = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .pool()
                    .write(|tx| -> Result<()> {
                        tx.execute("DELETE FROM messages", []).unwrap();
                        panic!("boom")
                    })
                    .await
            })
        };
        let last = append(&store, ids[3], "last");
        until_queued(&store, 6).await;
        release.send(()).unwrap();
        held.await.unwrap().unwrap();

        first.await.unwrap().unwrap();
        assert!(matches!(stale.await.unwrap(), Err(Error::Conflict { .. })));
        assert!(matches!(
            missing.await.unwrap(),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            duplicate.await.unwrap(),
            Err(Error::Storage { .. })
        ));
        assert!(matches!(panics.await.unwrap(), Err(Error::Storage { .. })));
        last.await.unwrap().unwrap();
        assert_eq!(queue(&store).counts(), (commits + 2, stored + 3));
        assert_eq!(contents(&store, ids[0]).await, ["Hello!", "first"]);
        assert_eq!(contents(&store, ids[1]).await, ["Hello!"]);
        assert_eq!(contents(&store, ids[2]).await, ["Hello!"]);
        assert_eq!(contents(&store, ids[3]).await, ["Hello!", "last"]);
        assert_eq!(store.usage(OWNER, Some(ids[2])).await.unwrap().messages, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_commit_fails_every_write_of_its_group() {
        let (store, ids, _dir) = store_with(1).await;
        let (release, held) = hold_writer(&store).await;
        let stored = append(&store, ids[0], "lost with the group");
        // A deferred foreign key is checked only at COMMIT, which then fails.
        let orphan = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .pool()
                    .write(|tx| {
                        tx.execute_batch(
                            "PRAGMA defer_foreign_keys = ON; \
                             INSERT INTO messages (id, conversation_id, role, content, \
                             created_at, revision) VALUES ('m', 'no such conversation', \
                             'user', 'x', 0, 0)",
                        )
                        .map_err(crate::error::storage("inserting an orphan"))
                    })
                    .await
            })
        };
        until_queued(&store, 2).await;
        release.send(()).unwrap();
        held.await.unwrap().unwrap();

        let failed = stored.await.unwrap().unwrap_err();
        assert!(
            matches!(&failed, Error::Storage { message } if message.contains("committing")),
            "{failed}"
        );
        assert_eq!(orphan.await.unwrap(), Err(failed));
        assert_eq!(contents(&store, ids[0]).await, ["Hello!"]);
        // The writer goes on.
        append(&store, ids[0], "after").await.unwrap().unwrap();
        assert_eq!(contents(&store, ids[0]).await, ["Hello!", "after"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_holds_at_most_max_group_writes() {
        let (store, ids, _dir) = store_with(1).await;
        let (commits, stored) = queue(&store).counts();
        let (release, held) = hold_writer(&store).await;
        let count = MAX_GROUP + 36;
        let mut appends = Vec::new();
        for i in 0..count {
            appends.push(append(&store, ids[0], &i.to_string()));
            // One at a time, so that they queue (and are stored) in this order.
            until_queued(&store, i + 1).await;
        }
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        for appended in appends {
            appended.await.unwrap().unwrap();
        }
        let stored_now = stored + 1 + count as u64;
        assert_eq!(queue(&store).counts(), (commits + 3, stored_now));
        let expected: Vec<String> = std::iter::once("Hello!".to_owned())
            .chain((0..count).map(|i| i.to_string()))
            .collect();
        assert_eq!(contents(&store, ids[0]).await, expected);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_stops_waiting_neither_blocks_nor_breaks_its_group() {
        let (store, ids, _dir) = store_with(2).await;
        let (release, held) = hold_writer(&store).await;
        let abandoned = append(&store, ids[0], "abandoned");
        let kept = append(&store, ids[1], "kept");
        until_queued(&store, 2).await;
        abandoned.abort();
        assert!(abandoned.await.unwrap_err().is_cancelled());
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        kept.await.unwrap().unwrap();
        // Queued before its caller left, the write still ran with its group.
        assert_eq!(contents(&store, ids[0]).await, ["Hello!", "abandoned"]);
        assert_eq!(contents(&store, ids[1]).await, ["Hello!", "kept"]);
    }
}
