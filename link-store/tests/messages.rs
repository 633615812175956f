//! Message reads: the `last` window, exact round trips of awkward content, cascades.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use link_core::{ConversationStore, Message, PageRequest, Role};

mod common;

#[tokio::test]
async fn last_picks_the_newest_oldest_first() {
    let (store, _dir) = common::file_store().await;
    let conversation = common::conversation("alice", "Ada");
    store
        .create(&conversation, &[common::greeting()])
        .await
        .unwrap();
    let mut all = store
        .messages("alice", conversation.id, None)
        .await
        .unwrap();
    for i in 0..4 {
        let message = common::user(&format!("m{i}"));
        store
            .append("alice", conversation.id, &message)
            .await
            .unwrap();
        all.push(message);
    }

    let read = |last| store.messages("alice", conversation.id, last);
    assert_eq!(read(None).await.unwrap(), all);
    assert_eq!(read(Some(0)).await.unwrap(), Vec::<Message>::new());
    assert_eq!(read(Some(1)).await.unwrap(), all[4..].to_vec());
    assert_eq!(read(Some(3)).await.unwrap(), all[2..].to_vec());
    assert_eq!(read(Some(5)).await.unwrap(), all);
    assert_eq!(read(Some(100)).await.unwrap(), all);
    assert_eq!(read(Some(usize::MAX)).await.unwrap(), all);
}

#[tokio::test]
async fn an_empty_conversation_has_no_messages_but_exists() {
    let (store, _dir) = common::file_store().await;
    let conversation = common::conversation("alice", "Ada");
    store.create(&conversation, &[]).await.unwrap();
    assert!(
        store
            .messages("alice", conversation.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .messages("alice", conversation.id, Some(0))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .messages("bob", conversation.id, Some(0))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn unicode_and_long_content_round_trip_exactly() {
    let (store, dir) = common::file_store().await;
    let mut conversation = common::conversation("ålice 👩‍💻", "Zoë ✨");
    conversation.persona.description = "Ünïcödé, RTL: مرحبا, CJK: 你好, NUL-free \u{1F600}".into();
    conversation.persona.example_lines = vec!["\"quoted\"".into(), "tab\tand\nnewline".into()];
    let long: String = "All work and no play 🎲 ".repeat(50_000); // about 1.3 MB
    let messages = vec![
        Message::new(Role::Assistant, "Grüß dich! 👋 \u{200B}zero-width"),
        Message::new(Role::User, long),
        Message::new(Role::User, ""),
        Message::new(Role::User, "'; DROP TABLE messages; --"),
    ];
    store.create(&conversation, &messages).await.unwrap();
    let path = dir.path().join("link.db");
    drop(store);

    let store = link_store::SqliteStore::open(&path).await.unwrap();
    let back = store
        .get(&conversation.owner, conversation.id)
        .await
        .unwrap();
    assert_eq!(back, Some(conversation.clone()));
    let read = store
        .messages(&conversation.owner, conversation.id, None)
        .await
        .unwrap();
    assert_eq!(read, messages);
}

#[tokio::test]
async fn delete_removes_the_messages_too() {
    let (store, dir) = common::file_store().await;
    let kept = common::conversation("alice", "Kept");
    let gone = common::conversation("alice", "Gone");
    store.create(&kept, &[common::greeting()]).await.unwrap();
    store
        .create(&gone, &[common::greeting(), common::user("bye")])
        .await
        .unwrap();
    assert!(store.delete("alice", gone.id).await.unwrap());

    let conn = rusqlite::Connection::open(dir.path().join("link.db")).unwrap();
    let count = |id: String| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM messages WHERE conversation_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(
        count(gone.id.to_string()),
        0,
        "the cascade removed the messages"
    );
    assert_eq!(
        count(kept.id.to_string()),
        1,
        "other conversations keep theirs"
    );
}

#[tokio::test]
async fn list_is_per_owner_and_newest_first() {
    let store = link_store::SqliteStore::in_memory().await.unwrap();
    let a1 = common::conversation("alice", "A1");
    let b1 = common::conversation("bob", "B1");
    let a2 = common::conversation("alice", "A2");
    for c in [&a1, &b1, &a2] {
        store.create(c, &[]).await.unwrap();
    }
    let ids =
        |list: Vec<link_core::Conversation>| list.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .list("alice", &PageRequest::default())
            .await
            .map(|p| p.items)
            .unwrap()),
        vec![a2.id, a1.id]
    );
    store
        .append("alice", a1.id, &common::user("bump"))
        .await
        .unwrap();
    assert_eq!(
        ids(store
            .list("alice", &PageRequest::default())
            .await
            .map(|p| p.items)
            .unwrap()),
        vec![a1.id, a2.id]
    );
    assert_eq!(
        ids(store
            .list("bob", &PageRequest::default())
            .await
            .map(|p| p.items)
            .unwrap()),
        vec![b1.id]
    );
    assert!(
        store
            .list("carol", &PageRequest::default())
            .await
            .map(|p| p.items)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn append_never_moves_updated_at_backwards() {
    let store = link_store::SqliteStore::in_memory().await.unwrap();
    let conversation = common::conversation("alice", "Ada");
    store.create(&conversation, &[]).await.unwrap();
    let mut old = common::user("from the past");
    old.created_at = conversation.updated_at - time::Duration::hours(1);
    store.append("alice", conversation.id, &old).await.unwrap();
    let back = store.get("alice", conversation.id).await.unwrap().unwrap();
    assert_eq!(back.updated_at, conversation.updated_at);
}
