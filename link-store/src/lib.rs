//! # link-store
//!
//! Conversation stores for [Link](link_core): [`SqliteStore`] keeps conversations and their
//! messages in one embedded SQLite file and implements
//! [`ConversationStore`](link_core::ConversationStore).
//!
//! - **Bundled SQLite**, nothing to install; the file is in WAL mode, so readers never wait
//!   for the writer, with foreign keys on and a busy timeout for other processes.
//! - **Migrations versioned in the crate** through `PRAGMA user_version`, each applied in its
//!   own transaction when the store opens. A file written by a newer link-store is refused
//!   ([`SCHEMA_VERSION`] is the version this build writes).
//! - **Never blocks the async runtime**: every query runs on tokio's blocking pool, on one
//!   writer connection or one of a few reader connections.
//! - **Group commit**: the writes that arrive while the writer is busy share one
//!   transaction (at most 64 of them), each inside its own savepoint, so a write that fails
//!   fails alone and each caller gets its own result once the group committed. One client
//!   sees no difference; 32 concurrent turns cost a few commits instead of 32.
//! - **Owner scoped**: another owner's conversation behaves exactly like a missing one.
//! - Errors are [`link_core::Error::Storage`] (or `NotFound` / `InvalidRequest` where that is
//!   what they mean), never a SQLite type.
//!
//! ```
//! use std::sync::Arc;
//! use link_core::{Conversation, ConversationStore, Message, Persona, PersonaKind, Role};
//! use link_store::SqliteStore;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("link.db");
//! let store: Arc<dyn ConversationStore> = Arc::new(SqliteStore::open(&path).await?);
//!
//! let persona = Persona::new("Captain Whiskers", PersonaKind::Original, "A grumpy pirate.", "Arr.");
//! let conversation = Conversation::new("user-sub", persona);
//! store.create(&conversation, &[Message::new(Role::Assistant, "Arr.")]).await?;
//! store.append("user-sub", conversation.id, &Message::new(Role::User, "Ahoy!")).await?;
//! drop(store);
//!
//! // Reopening the file finds everything again.
//! let store = SqliteStore::open(&path).await?;
//! let newest = store.messages("user-sub", conversation.id, Some(1)).await?;
//! assert_eq!(newest[0].content, "Ahoy!");
//! let page = store.list("user-sub", &link_core::PageRequest::default()).await?;
//! assert_eq!(page.items.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod avatar;
mod checkpoint;
mod codec;
mod error;
mod group_commit;
mod keys;
mod migrate;
mod pool;
mod queries;
mod store;
mod tokens;
mod turn;
mod usage;

pub use migrate::SCHEMA_VERSION;
pub use store::{SqliteOptions, SqliteStore};
