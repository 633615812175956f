//! A small connection pool that keeps SQLite off the async runtime.
//!
//! SQLite allows one writer at a time, so there is exactly one writer connection, behind an
//! async mutex. Writes queue in a [`CommitQueue`], which runs the writes that arrive while
//! the writer is busy in one transaction (group commit); waiting writers hold no thread.
//! Readers take a permit from a semaphore (as many as configured) and a connection from an
//! idle list, opened lazily; in WAL mode they read a consistent snapshot while the writer
//! commits. Queries run on `spawn_blocking`, except the short reads of a bounded size that
//! [`Pool::read_inline`] runs on the calling task.
//!
//! What is not grouped: the migrations run on the writer before the pool exists (each step
//! its own transaction, see `migrate`), checkpoints run on a connection of their own (see
//! `checkpoint`), and the reads of a pool without readers take the writer connection
//! outside the queue ([`Pool::read`]), in a read transaction of their own.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use link_core::Result;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, Transaction};
use tokio::sync::{Mutex as AsyncMutex, Semaphore};

use crate::checkpoint::{Checkpointer, WRITER_THRESHOLD};
use crate::error::{storage, task_failed};
use crate::group_commit::CommitQueue;
use crate::migrate::migrate;

/// How much of the database file each connection maps into memory (address space, not RSS:
/// the pages are the kernel's page cache, shared by all connections).
const MMAP_BYTES: i64 = 256 * 1024 * 1024;

/// How each connection is set up.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionConfig {
    pub(crate) busy_timeout: Duration,
    /// `PRAGMA synchronous=FULL` rather than NORMAL.
    pub(crate) full_sync: bool,
}

impl ConnectionConfig {
    /// The pragmas every connection needs; foreign keys are off by default in SQLite and
    /// the cascade from conversations to messages depends on them.
    fn apply(&self, conn: &Connection) -> Result<()> {
        conn.busy_timeout(self.busy_timeout)
            .map_err(storage("setting the busy timeout"))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(storage("enabling foreign keys"))?;
        let sync = if self.full_sync { "FULL" } else { "NORMAL" };
        conn.pragma_update(None, "synchronous", sync)
            .map_err(storage("setting synchronous mode"))?;
        // Pages are read through a memory map rather than a read() call each: after every
        // commit, the other connections' page caches are stale and would re-read them.
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)
            .map_err(storage("setting the memory map size"))?;
        // Without the query planner stability guarantee, a statement whose LIMIT is a bound
        // parameter (the window of messages) is prepared again every time it is bound: SQLite
        // plans with the bound value. That was about a tenth of a turn's instructions.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map(drop)
            .map_err(storage("keeping prepared statements"))
    }
}

/// Opens the writer on a file: creates it, switches it to WAL, migrates the schema.
pub(crate) fn open_writer(path: &Path, config: &ConnectionConfig) -> Result<Connection> {
    let mut conn = Connection::open(path).map_err(storage("opening the database"))?;
    // The first statement reads the file header, so a file that is not a database fails here.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(storage("opening the database"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "link-store: the database did not switch to WAL mode");
    }
    config.apply(&conn)?;
    // Checkpoints are the Checkpointer's job; the writer's own is only a safety net.
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_THRESHOLD)
        .map_err(storage("setting the checkpoint threshold"))?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Opens the only connection of a private in-memory database.
pub(crate) fn open_memory(config: &ConnectionConfig) -> Result<Connection> {
    let mut conn = Connection::open_in_memory().map_err(storage("opening the database"))?;
    config.apply(&conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn open_reader(path: &Path, config: &ConnectionConfig) -> Result<Connection> {
    let conn = Connection::open(path).map_err(storage("opening a reader connection"))?;
    config.apply(&conn)?;
    // A reader must never write, even by mistake.
    conn.pragma_update(None, "query_only", true)
        .map_err(storage("opening a reader connection"))?;
    Ok(conn)
}

/// Reader connections for a database file.
#[derive(Debug)]
struct Readers {
    path: PathBuf,
    config: ConnectionConfig,
    permits: Arc<Semaphore>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

/// The writer and the readers of one database.
#[derive(Debug)]
pub(crate) struct Pool {
    writer: Arc<AsyncMutex<Connection>>,
    /// The writes waiting for `writer`, committed in groups.
    commits: CommitQueue,
    readers: Option<Readers>,
    /// Checkpoints a database file's WAL in the background (none in memory).
    checkpointer: Option<Checkpointer>,
}

impl Pool {
    /// A pool whose reads also go through `writer` (an in-memory database, or no readers).
    pub(crate) fn single(writer: Connection) -> Self {
        let writer = Arc::new(AsyncMutex::new(writer));
        Self {
            commits: CommitQueue::new(Arc::clone(&writer)),
            writer,
            readers: None,
            checkpointer: None,
        }
    }

    /// A pool of `writer` plus up to `readers` reader connections on `path`.
    pub(crate) fn with_readers(
        writer: Connection,
        path: PathBuf,
        config: ConnectionConfig,
        readers: usize,
    ) -> Self {
        if readers == 0 {
            return Self::single(writer);
        }
        let writer = Arc::new(AsyncMutex::new(writer));
        Self {
            commits: CommitQueue::new(Arc::clone(&writer)),
            writer,
            readers: Some(Readers {
                path,
                config,
                permits: Arc::new(Semaphore::new(readers)),
                idle: Arc::new(Mutex::new(Vec::with_capacity(readers))),
            }),
            checkpointer: None,
        }
    }

    /// Hands the pool the checkpointer of its file, which then lives as long as the pool.
    pub(crate) fn with_checkpointer(mut self, checkpointer: Checkpointer) -> Self {
        self.checkpointer = Some(checkpointer);
        self
    }

    /// Runs `f` in a write transaction on the writer connection, off the runtime, together
    /// with the writes that queued beside it (see [`CommitQueue::write`]): its result comes
    /// once that transaction committed. If the caller stops waiting, the write may still
    /// commit.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.commits.write(f).await
    }

    /// The write queue, for tests that watch the groups form.
    #[cfg(test)]
    pub(crate) fn commit_queue(&self) -> &CommitQueue {
        &self.commits
    }

    /// Runs `f` on the writer connection alone, off the runtime, outside the write queue:
    /// for reads on a pool without readers, which need no write transaction.
    async fn exclusive<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let mut conn = Arc::clone(&self.writer).lock_owned().await;
        tokio::task::spawn_blocking(move || f(&mut conn))
            .await
            .map_err(task_failed)?
    }

    /// Runs `f` on a reader connection (the writer if there are none), off the runtime.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let Some(readers) = &self.readers else {
            return self.exclusive(f).await;
        };
        let permit = Arc::clone(&readers.permits)
            .acquire_owned()
            .await
            .map_err(|_| link_core::Error::storage("the reader pool is closed"))?;
        let idle = Arc::clone(&readers.idle);
        let (path, config) = (readers.path.clone(), readers.config.clone());
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            with_reader(&idle, &path, &config, f)
        })
        .await
        .map_err(task_failed)?
    }

    /// Runs `f` on a reader connection on the calling task, without a thread hand-off.
    ///
    /// Only for short reads of a bounded size (one conversation, a window of messages): in
    /// WAL mode they never wait for the writer and take tens of microseconds, while the two
    /// hand-offs of [`read`](Self::read) cost about 0.15 ms on a 2-core virtual machine.
    pub(crate) async fn read_inline<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T>,
    ) -> Result<T> {
        let Some(readers) = &self.readers else {
            return f(&mut *self.writer.lock().await);
        };
        let _permit = readers
            .permits
            .acquire()
            .await
            .map_err(|_| link_core::Error::storage("the reader pool is closed"))?;
        with_reader(&readers.idle, &readers.path, &readers.config, f)
    }
}

/// Runs `f` on an idle reader connection, opening one if there is none, and puts it back.
fn with_reader<T>(
    idle: &Mutex<Vec<Connection>>,
    path: &Path,
    config: &ConnectionConfig,
    f: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    // A connection lost to a panic is simply reopened the next time it is needed.
    let taken = idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
    let mut conn = match taken {
        Some(conn) => conn,
        None => open_reader(path, config)?,
    };
    let result = f(&mut conn);
    idle.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(conn);
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::queries;

    fn config() -> ConnectionConfig {
        ConnectionConfig {
            busy_timeout: Duration::from_secs(1),
            full_sync: false,
        }
    }

    fn pool(dir: &tempfile::TempDir, readers: usize) -> Pool {
        let path = dir.path().join("pool.db");
        let writer = open_writer(&path, &config()).unwrap();
        Pool::with_readers(writer, path, config(), readers)
    }

    #[tokio::test]
    async fn a_panicking_query_is_an_error_and_the_pool_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, 1);
        let failed = pool
            .read(|_: &mut Connection| -> Result<()> { panic!("boom") })
            .await;
        assert!(matches!(failed, Err(link_core::Error::Storage { .. })));
        pool.read(|conn| queries::ping(conn)).await.unwrap();
        let failed = pool
            .write(|_: &Transaction<'_>| -> Result<()> { panic!("boom") })
            .await;
        assert!(matches!(failed, Err(link_core::Error::Storage { .. })));
        pool.write(|tx| queries::ping(tx)).await.unwrap();
    }

    #[tokio::test]
    async fn a_bound_limit_does_not_prepare_the_statement_again() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, 1);
        let reprepared = pool
            .read(|conn| {
                let sql = "SELECT name FROM sqlite_schema LIMIT ?1";
                for limit in [1, 2, 3] {
                    let mut stmt = conn.prepare_cached(sql).map_err(storage("x"))?;
                    let mut rows = stmt.query([limit]).map_err(storage("x"))?;
                    while rows.next().map_err(storage("x"))?.is_some() {}
                }
                let stmt = conn.prepare_cached(sql).map_err(storage("x"))?;
                Ok(stmt.get_status(rusqlite::StatementStatus::RePrepare))
            })
            .await
            .unwrap();
        assert_eq!(reprepared, 0);
    }

    #[tokio::test]
    async fn readers_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, 2);
        let attempt = pool
            .read(|conn| {
                conn.execute("DELETE FROM conversations", [])
                    .map_err(storage("writing from a reader"))
            })
            .await;
        assert!(matches!(attempt, Err(link_core::Error::Storage { .. })));
    }

    #[tokio::test]
    async fn the_file_is_in_wal_mode_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(&dir, 1);
        let (mode, fk) = pool
            .read(|conn| {
                let mode: String = conn
                    .pragma_query_value(None, "journal_mode", |r| r.get(0))
                    .map_err(storage("x"))?;
                let fk: bool = conn
                    .pragma_query_value(None, "foreign_keys", |r| r.get(0))
                    .map_err(storage("x"))?;
                Ok((mode, fk))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert!(fk);
    }
}
