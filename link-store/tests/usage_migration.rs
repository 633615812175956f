//! Migration 0003 counts the messages and bytes of conversations written before it, versions
//! included, exactly as the store counts those written after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use link_core::{ConversationId, ConversationStore, Message, Role, StoreUsage};
use link_store::SqliteStore;
use rusqlite::{Connection, params};

/// A schema-2 database with one conversation of alice's: a plain message and one with two
/// versions (JSON, as schema 2 writes them).
fn write_schema_2(path: &std::path::Path) -> ConversationId {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(include_str!("../migrations/0001_initial.sql"))
        .unwrap();
    conn.execute_batch(include_str!("../migrations/0002_chat_controls.sql"))
        .unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();
    let id = ConversationId::new();
    let persona = link_core::Persona::new(
        "Ada",
        link_core::PersonaKind::Historical,
        "A mathematician.",
        "Good day.",
    );
    conn.execute(
        "INSERT INTO conversations (id, owner, persona, created_at, updated_at) \
         VALUES (?1, 'alice', ?2, 1000, 2000)",
        params![id.to_string(), serde_json::to_string(&persona).unwrap()],
    )
    .unwrap();
    let rows = [
        ("Good day. ✨", None),
        ("two", Some(r#"["one \"quoted\"","two"]"#)),
    ];
    for (seq, (content, alternatives)) in rows.into_iter().enumerate() {
        conn.execute(
            "INSERT INTO messages (id, conversation_id, role, content, created_at, \
             alternatives, chosen) VALUES (?1, ?2, 'assistant', ?3, ?4, ?5, ?6)",
            params![
                link_core::MessageId::new().to_string(),
                id.to_string(),
                content,
                1000 + seq as i64,
                alternatives,
                i64::from(alternatives.is_some()),
            ],
        )
        .unwrap();
    }
    id
}

#[tokio::test]
async fn rows_written_before_the_migration_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let id = write_schema_2(&path);
    let store = SqliteStore::open(&path).await.unwrap();
    let bytes = ("Good day. ✨".len() + "one \"quoted\"".len() + "two".len()) as u64;
    let expected = StoreUsage {
        conversations: 1,
        bytes,
        messages: 2,
    };
    assert_eq!(store.usage("alice", Some(id)).await.unwrap(), expected);

    // The store's own count after a write agrees with the migration's.
    let more = Message::new(Role::User, "more");
    store.append("alice", id, &more).await.unwrap();
    let after = store.usage("alice", Some(id)).await.unwrap();
    assert_eq!((after.bytes, after.messages), (bytes + 4, 3));
    let messages = store.messages("alice", id, None).await.unwrap();
    assert_eq!(after.bytes, StoreUsage::bytes_of(&messages));
}
