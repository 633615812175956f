//! The [`ConversationStore::token_usage`] checks: the tokens a [`Splice`] carries add up per
//! owner, month and conversation, are stored with the splice or not at all, and outlive the
//! conversation.

use super::store::{message_at, stored};
use super::{expect_err, expect_ok, unique};
use crate::{
    ConversationId, ConversationStore, ConversationTokens, Error, Month, Role, Splice, TokenTally,
};

/// Runs every check of this module, in order.
pub async fn conversation_store_tokens(store: &dyn ConversationStore) {
    token_usage_of_a_new_owner_is_empty(store).await;
    token_tallies_add_up_across_splices(store).await;
    token_tallies_are_owner_scoped(store).await;
    token_tallies_are_per_month(store).await;
    a_failed_splice_tallies_nothing(store).await;
    token_tallies_outlive_the_conversation(store).await;
}

fn month(text: &str) -> Month {
    expect_ok(text.parse(), "parsing a month")
}

fn tally(input_tokens: u64, output_tokens: u64, calls: u64) -> TokenTally {
    TokenTally {
        input_tokens,
        output_tokens,
        calls,
    }
}

async fn token_usage(
    store: &dyn ConversationStore,
    owner: &str,
    month: Month,
) -> Vec<ConversationTokens> {
    expect_ok(store.token_usage(owner, month).await, "token_usage")
}

/// Applies a splice that only carries `tokens`.
async fn spend(
    store: &dyn ConversationStore,
    owner: &str,
    id: ConversationId,
    month: Month,
    tokens: TokenTally,
) {
    let splice = Splice::default().tokens(month, tokens);
    expect_ok(store.splice(owner, id, &splice).await, "splice with tokens");
}

/// An owner who used nothing has no tallies.
pub async fn token_usage_of_a_new_owner_is_empty(store: &dyn ConversationStore) {
    let listed = token_usage(store, &unique("nobody"), month("2026-01")).await;
    assert!(listed.is_empty(), "an owner who used nothing: {listed:?}");
}

/// The tokens of every splice of a month add up per conversation (also those of a splice
/// that appends messages), listed the most tokens first.
pub async fn token_tallies_add_up_across_splices(store: &dyn ConversationStore) {
    let owner = unique("alice");
    let march = month("2026-03");
    let (first, _) = stored(store, &owner).await;
    let (second, _) = stored(store, &owner).await;
    let turn = Splice::default()
        .append(message_at(&first, 1, Role::User, "Hi"))
        .append(message_at(&first, 2, Role::Assistant, "Hello"))
        .tokens(march, tally(100, 20, 1));
    expect_ok(store.splice(&owner, first.id, &turn).await, "splice a turn");
    spend(store, &owner, first.id, march, tally(150, 30, 1)).await;
    spend(store, &owner, second.id, march, tally(500, 1, 1)).await;
    let expected = vec![
        ConversationTokens {
            conversation: second.id,
            tokens: tally(500, 1, 1),
        },
        ConversationTokens {
            conversation: first.id,
            tokens: tally(250, 50, 2),
        },
    ];
    assert_eq!(
        token_usage(store, &owner, march).await,
        expected,
        "tallies of two conversations, the most tokens first"
    );
    let messages = expect_ok(store.messages(&owner, first.id, None).await, "messages");
    assert_eq!(
        messages.len(),
        3,
        "the turn's messages were stored with its tokens"
    );
}

/// Another owner's tokens are never listed, and a splice of another owner's conversation
/// tallies nothing for anyone.
pub async fn token_tallies_are_owner_scoped(store: &dyn ConversationStore) {
    let (alice, bob) = (unique("alice"), unique("bob"));
    let may = month("2026-05");
    let (conversation, _) = stored(store, &alice).await;
    spend(store, &alice, conversation.id, may, tally(10, 5, 1)).await;
    assert!(
        token_usage(store, &bob, may).await.is_empty(),
        "another owner must see none of alice's tokens"
    );
    let stolen = Splice::default().tokens(may, tally(1000, 1000, 1));
    let err = expect_err(
        store.splice(&bob, conversation.id, &stolen).await,
        "a splice of another owner's conversation",
    );
    assert!(
        matches!(err, Error::NotFound { .. }),
        "a splice of another owner's conversation: expected not found, got {err:?}"
    );
    assert!(
        token_usage(store, &bob, may).await.is_empty(),
        "a refused splice must tally nothing for its caller"
    );
    let expected = vec![ConversationTokens {
        conversation: conversation.id,
        tokens: tally(10, 5, 1),
    }];
    assert_eq!(
        token_usage(store, &alice, may).await,
        expected,
        "a refused splice must tally nothing for the owner"
    );
}

/// Tokens count in the month the splice names, and each month is read on its own.
pub async fn token_tallies_are_per_month(store: &dyn ConversationStore) {
    let owner = unique("alice");
    let (conversation, _) = stored(store, &owner).await;
    let (june, july) = (month("2026-06"), month("2026-07"));
    spend(store, &owner, conversation.id, june, tally(1, 2, 1)).await;
    spend(store, &owner, conversation.id, july, tally(30, 40, 1)).await;
    spend(store, &owner, conversation.id, july, tally(300, 400, 1)).await;
    let of = |tokens| {
        vec![ConversationTokens {
            conversation: conversation.id,
            tokens,
        }]
    };
    assert_eq!(token_usage(store, &owner, june).await, of(tally(1, 2, 1)));
    assert_eq!(
        token_usage(store, &owner, july).await,
        of(tally(330, 440, 2))
    );
    assert!(
        token_usage(store, &owner, month("2026-08"))
            .await
            .is_empty(),
        "a month nothing was used in"
    );
}

/// A splice that fails (here a conflict: the conversation changed since it was read) stores
/// none of its tokens either.
pub async fn a_failed_splice_tallies_nothing(store: &dyn ConversationStore) {
    let owner = unique("alice");
    let april = month("2026-04");
    let (conversation, greeting) = stored(store, &owner).await;
    let newer = message_at(&conversation, 1, Role::User, "newer");
    expect_ok(
        store.append(&owner, conversation.id, &newer).await,
        "append",
    );
    let stale = Splice::default()
        .expect_last(greeting.id)
        .append(message_at(&conversation, 2, Role::Assistant, "late"))
        .tokens(april, tally(70, 7, 1));
    let err = expect_err(
        store.splice(&owner, conversation.id, &stale).await,
        "a splice expecting a message that is no longer the newest",
    );
    assert!(
        matches!(err, Error::Conflict { .. }),
        "a stale splice: expected a conflict, got {err:?}"
    );
    assert!(
        token_usage(store, &owner, april).await.is_empty(),
        "a failed splice must tally none of its tokens"
    );
}

/// Deleting a conversation keeps its tally: the tokens were used.
pub async fn token_tallies_outlive_the_conversation(store: &dyn ConversationStore) {
    let owner = unique("alice");
    let october = month("2026-10");
    let (conversation, _) = stored(store, &owner).await;
    spend(store, &owner, conversation.id, october, tally(12, 3, 1)).await;
    assert!(
        expect_ok(store.delete(&owner, conversation.id).await, "delete"),
        "the conversation was there to delete"
    );
    let expected = vec![ConversationTokens {
        conversation: conversation.id,
        tokens: tally(12, 3, 1),
    }];
    assert_eq!(
        token_usage(store, &owner, october).await,
        expected,
        "a deleted conversation's tally"
    );
}
