//! Token tallies on a database file: kept across a restart, and saturating instead of
//! failing a turn when a count no longer fits SQLite's signed 64-bit integers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use link_core::{ConversationStore, ConversationTokens, Month, Splice, TokenTally};
use link_store::SqliteStore;

mod common;

fn tally(input_tokens: u64, output_tokens: u64) -> TokenTally {
    TokenTally {
        input_tokens,
        output_tokens,
        calls: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tallies_survive_a_restart_and_saturate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("link.db");
    let month: Month = "2026-02".parse().unwrap();
    let conversation = common::conversation("alice", "Ada");
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.create(&conversation, &[]).await.unwrap();
        let turn = Splice::default()
            .append(common::user("Hi"))
            .tokens(month, tally(u64::MAX, 7));
        store.splice("alice", conversation.id, &turn).await.unwrap();
        let more = Splice::default().tokens(month, tally(5, 8));
        store.splice("alice", conversation.id, &more).await.unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let expected = vec![ConversationTokens {
        conversation: conversation.id,
        tokens: TokenTally {
            input_tokens: i64::MAX as u64,
            output_tokens: 15,
            calls: 2,
        },
    }];
    assert_eq!(store.token_usage("alice", month).await.unwrap(), expected);
    assert_eq!(
        store
            .messages("alice", conversation.id, None)
            .await
            .unwrap()
            .len(),
        1
    );
}
