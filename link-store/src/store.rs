//! [`SqliteStore`]: Link's conversations in one SQLite file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use link_core::{
    Avatar, Conversation, ConversationId, ConversationPatch, ConversationStore, ConversationTokens,
    Error, Message, Month, Page, PageRequest, Result, Splice, StoreUsage, TurnState, UserPersona,
};

use crate::checkpoint::Checkpointer;
use crate::error::task_failed;
use crate::pool::{ConnectionConfig, Pool, open_memory, open_writer};
use crate::{avatar, queries};

/// A [`ConversationStore`] on an embedded SQLite database (bundled SQLite, WAL journal,
/// foreign keys on, schema migrated on open).
///
/// Cheap to clone: clones share the same connections. Every query runs on tokio's blocking
/// pool, never on the async runtime's threads, so the store needs a tokio runtime.
///
/// Writes that arrive while another commits are committed together, in one transaction
/// (group commit), each still failing or succeeding alone. A write whose future is dropped
/// after it was queued may still be stored.
///
/// ```
/// use link_core::{Conversation, ConversationStore, Message, Persona, PersonaKind, Role};
/// use link_store::SqliteStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir()?;
/// let store = SqliteStore::open(dir.path().join("link.db")).await?;
///
/// let persona = Persona::new("Ada Lovelace", PersonaKind::Historical, "A mathematician.", "Good day.");
/// let conversation = Conversation::new("user-sub", persona);
/// let greeting = Message::new(Role::Assistant, "Good day.");
/// store.create(&conversation, &[greeting]).await?;
/// store.append("user-sub", conversation.id, &Message::new(Role::User, "Hello!")).await?;
///
/// let history = store.messages("user-sub", conversation.id, None).await?;
/// assert_eq!(history.len(), 2);
/// // Another owner's conversation behaves as if it did not exist.
/// assert!(store.get("someone-else", conversation.id).await?.is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: Arc<Pool>,
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (creating it and its parent directories if needed) the database at `path`, with
    /// the default [`SqliteOptions`].
    ///
    /// Fails with [`Error::Storage`] if the file is not a SQLite database, or was written by
    /// a newer link-store whose schema this one does not know.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        SqliteOptions::default().open(path).await
    }

    /// A private in-memory database on a single connection, gone when the store is dropped:
    /// for tests and demos.
    pub async fn in_memory() -> Result<Self> {
        SqliteOptions::default().open_in_memory().await
    }

    /// The database file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

/// How a [`SqliteStore`] is opened.
///
/// ```
/// use std::time::Duration;
/// use link_store::SqliteOptions;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir()?;
/// let store = SqliteOptions::default()
///     .readers(2)
///     .busy_timeout(Duration::from_secs(10))
///     .full_sync(true)
///     .open(dir.path().join("nested/dirs/link.db"))
///     .await?;
/// assert!(store.path().is_some_and(|p| p.exists()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    readers: usize,
    config: ConnectionConfig,
}

impl Default for SqliteOptions {
    /// Four readers, a five-second busy timeout, `synchronous=NORMAL`.
    fn default() -> Self {
        Self {
            readers: 4,
            config: ConnectionConfig {
                busy_timeout: Duration::from_secs(5),
                full_sync: false,
            },
        }
    }
}

impl SqliteOptions {
    /// How many reader connections may run queries at once, beside the one writer. With 0,
    /// reads share the writer connection.
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers;
        self
    }

    /// How long a connection waits for a lock held by another process before failing.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.config.busy_timeout = timeout;
        self
    }

    /// With `true`, every commit is synced to disk (`synchronous=FULL`), so it survives a
    /// power loss. The default (`NORMAL`) survives a crash of the process but may lose the
    /// last commits on power loss; it never corrupts the database.
    pub fn full_sync(mut self, full: bool) -> Self {
        self.config.full_sync = full;
        self
    }

    /// Opens the database at `path` (see [`SqliteStore::open`]).
    pub async fn open(self, path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let config = self.config.clone();
        let (writer, checkpointer, path) = tokio::task::spawn_blocking(move || {
            create_parent(&path)?;
            let writer = open_writer(&path, &config)?;
            let checkpointer = Checkpointer::start(&path, config.busy_timeout)?;
            Ok::<_, link_core::Error>((writer, checkpointer, path))
        })
        .await
        .map_err(task_failed)??;
        let pool = Pool::with_readers(writer, path.clone(), self.config, self.readers)
            .with_checkpointer(checkpointer);
        tracing::debug!(readers = self.readers, "link-store: database open");
        Ok(SqliteStore {
            pool: Arc::new(pool),
            path: Some(path),
        })
    }

    /// Opens a private in-memory database (see [`SqliteStore::in_memory`]); `readers` does
    /// not apply, as the database lives in its one connection.
    pub async fn open_in_memory(self) -> Result<SqliteStore> {
        let config = self.config;
        let writer = tokio::task::spawn_blocking(move || open_memory(&config))
            .await
            .map_err(task_failed)??;
        Ok(SqliteStore {
            pool: Arc::new(Pool::single(writer)),
            path: None,
        })
    }
}

impl SqliteStore {
    /// The connections, for the other ports this store implements.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
            .map_err(|e| Error::storage(format!("cannot create the database directory: {e}"))),
        _ => Ok(()),
    }
}

/// Reads of at most this many messages run on the calling task (see `Pool::read_inline`);
/// longer ones, like a whole conversation, go to a blocking thread.
const INLINE_WINDOW: usize = 500;

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn create(&self, conversation: &Conversation, messages: &[Message]) -> Result<()> {
        let (conversation, messages) = (conversation.clone(), messages.to_vec());
        self.pool
            .write(move |tx| queries::create(tx, &conversation, &messages))
            .await
    }

    async fn get(&self, owner: &str, id: ConversationId) -> Result<Option<Conversation>> {
        self.pool
            .read_inline(|conn| queries::get(conn, owner, id))
            .await
    }

    async fn list(&self, owner: &str, page: &PageRequest) -> Result<Page<Conversation>> {
        let (owner, page) = (owner.to_owned(), page.clone());
        self.pool
            .read(move |conn| queries::list(conn, &owner, &page))
            .await
    }

    async fn update(
        &self,
        owner: &str,
        id: ConversationId,
        patch: &ConversationPatch,
    ) -> Result<Conversation> {
        let (owner, patch) = (owner.to_owned(), patch.clone());
        self.pool
            .write(move |tx| queries::update(tx, &owner, id, &patch))
            .await
    }

    async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool> {
        let owner = owner.to_owned();
        self.pool
            .write(move |tx| queries::delete(tx, &owner, id))
            .await
    }

    async fn splice(&self, owner: &str, id: ConversationId, splice: &Splice) -> Result<()> {
        let (owner, splice) = (owner.to_owned(), splice.clone());
        self.pool
            .write(move |tx| queries::splice(tx, &owner, id, &splice))
            .await
    }

    async fn messages(
        &self,
        owner: &str,
        id: ConversationId,
        last: Option<usize>,
    ) -> Result<Vec<Message>> {
        if last.is_some_and(|n| n <= INLINE_WINDOW) {
            return self
                .pool
                .read_inline(|conn| queries::messages(conn, owner, id, last))
                .await;
        }
        let owner = owner.to_owned();
        self.pool
            .read(move |conn| queries::messages(conn, &owner, id, last))
            .await
    }

    async fn avatar(&self, owner: &str, id: ConversationId) -> Result<Option<Avatar>> {
        let owner = owner.to_owned();
        self.pool
            .read(move |conn| avatar::avatar(conn, &owner, id))
            .await
    }

    async fn set_avatar(
        &self,
        owner: &str,
        id: ConversationId,
        avatar: Option<Avatar>,
    ) -> Result<()> {
        let owner = owner.to_owned();
        self.pool
            .write(move |tx| avatar::set_avatar(tx, &owner, id, avatar.as_ref()))
            .await
    }

    async fn user_persona(&self, owner: &str) -> Result<Option<UserPersona>> {
        self.pool
            .read_inline(|conn| queries::user_persona(conn, owner))
            .await
    }

    async fn set_user_persona(&self, owner: &str, persona: Option<UserPersona>) -> Result<()> {
        let owner = owner.to_owned();
        self.pool
            .write(move |tx| queries::set_user_persona(tx, &owner, persona.as_ref()))
            .await
    }

    async fn turn_state(
        &self,
        owner: &str,
        id: ConversationId,
        window: usize,
    ) -> Result<TurnState> {
        if window <= INLINE_WINDOW {
            return self
                .pool
                .read_inline(|conn| crate::turn::turn_state(conn, owner, id, window))
                .await;
        }
        let owner = owner.to_owned();
        self.pool
            .read(move |conn| crate::turn::turn_state(conn, &owner, id, window))
            .await
    }

    async fn usage(&self, owner: &str, conversation: Option<ConversationId>) -> Result<StoreUsage> {
        self.pool
            .read_inline(|conn| crate::usage::usage(conn, owner, conversation))
            .await
    }

    async fn token_usage(&self, owner: &str, month: Month) -> Result<Vec<ConversationTokens>> {
        // One row per conversation used that month, unbounded by a window: a blocking thread.
        let owner = owner.to_owned();
        self.pool
            .read(move |conn| crate::tokens::token_usage(conn, &owner, month))
            .await
    }

    async fn ping(&self) -> Result<()> {
        self.pool.read(|conn| queries::ping(conn)).await
    }
}
