//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use link_core::{Conversation, Message, Persona, PersonaKind, Role};
use link_store::SqliteStore;
use tempfile::TempDir;

/// A store on a fresh file in its own temporary directory (kept alive by the `TempDir`).
pub async fn file_store() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("link.db")).await.unwrap();
    (store, dir)
}

/// A conversation owned by `owner`, with a persona named `name`.
pub fn conversation(owner: &str, name: &str) -> Conversation {
    let persona = Persona::new(name, PersonaKind::Original, "A test character.", "Hello!");
    Conversation::new(owner, persona)
}

/// A user message with `content`.
pub fn user(content: &str) -> Message {
    Message::new(Role::User, content)
}

/// An assistant greeting.
pub fn greeting() -> Message {
    Message::new(Role::Assistant, "Hello!")
}
