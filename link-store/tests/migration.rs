//! A database written by an older link-store opens with this one and keeps every row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use link_core::{ConversationStore, MessageId, PageRequest, Persona, PersonaKind, Role, Splice};
use link_store::{SCHEMA_VERSION, SqliteStore};
use rusqlite::{Connection, params};

/// Writes a database as schema 1 (the first release) did: its DDL and rows as it wrote them.
fn write_schema_1(path: &std::path::Path, messages: usize) -> (String, Vec<String>) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(include_str!("../migrations/0001_initial.sql"))
        .unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    let conversation = link_core::ConversationId::new().to_string();
    let persona = Persona::new(
        "Ada",
        PersonaKind::Historical,
        "A mathematician.",
        "Good day.",
    );
    let persona = serde_json::to_string(&persona).unwrap();
    conn.execute(
        "INSERT INTO conversations (id, owner, persona, created_at, updated_at) \
         VALUES (?1, 'alice', ?2, 1000, 2000)",
        params![conversation, persona],
    )
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..messages {
        let id = MessageId::new().to_string();
        let role = if i % 2 == 0 { "assistant" } else { "user" };
        conn.execute(
            "INSERT INTO messages (id, conversation_id, role, content, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                conversation,
                role,
                format!("message {i} ✨"),
                1000 + i as i64
            ],
        )
        .unwrap();
        ids.push(id);
    }
    (conversation, ids)
}

#[tokio::test]
async fn a_schema_1_database_is_migrated_and_keeps_every_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let (conversation, ids) = write_schema_1(&path, 41);

    let store = SqliteStore::open(&path).await.unwrap();
    let id = conversation.parse().unwrap();
    let listed = store.list("alice", &PageRequest::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    let read = listed.items[0].clone();
    assert_eq!((read.origin, read.user_persona), (None, None));
    assert_eq!(read.persona.name, "Ada");

    let messages = store.messages("alice", id, None).await.unwrap();
    let read_ids: Vec<String> = messages.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(read_ids, ids, "every message, in order");
    for (i, message) in messages.iter().enumerate() {
        assert_eq!(message.content, format!("message {i} ✨"));
        assert_eq!(message.alternative_count(), 1);
        assert!(!message.interrupted && message.edited_at.is_none());
    }
    assert_eq!(messages[0].role, Role::Assistant);

    // The migrated rows take the new operations.
    let mut last = messages[40].clone();
    last.add_alternative("again");
    let splice = Splice::default().expect_last(last.id).replace(last.clone());
    store.splice("alice", id, &splice).await.unwrap();
    let reread = store.messages("alice", id, Some(1)).await.unwrap();
    assert_eq!(reread, vec![last.stored_revision()]);

    let conn = Connection::open(&path).unwrap();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}
