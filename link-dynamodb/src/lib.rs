//! Link's [`ConversationStore`](link_core::ConversationStore) on Amazon DynamoDB, for many
//! instances (Lambda, replicas behind a load balancer) sharing one store.
//!
//! # One table
//!
//! [`DynamoStore::create_table`] makes it (on-demand billing, the `updated` index, time to
//! live on `expires`), idempotently; `link-server admin create-table --table NAME` runs it
//! with the region and credentials of the standard AWS chain. `link-server` (and the `link`
//! crate's `Config`) use it with `LINK_STORE=dynamodb`, `LINK_DYNAMODB_TABLE=NAME` and, for
//! the rate limit, `LINK_RATE_LIMIT_STORE=dynamodb`.
//!
//! Every item of an owner lives in the owner's partition (`PK = O#{owner}`), so every read
//! is owner-scoped by its key: another owner's conversation is simply not there.
//!
//! | item | `PK` | `SK` | index `updated` (`GSI1PK`, `GSI1SK`) |
//! |---|---|---|---|
//! | conversation | `O#{owner}` | `C#{conversation}` | `O#{owner}`, `{updated_at ns, zero-padded}#{conversation}` |
//! | avatar part | `O#{owner}` | `C#{conversation}#A#{part, two digits}` | — |
//! | message | `O#{owner}` | `C#{conversation}#M#{message}` | — |
//! | token tally | `O#{owner}` | `T#{YYYY-MM}#{conversation}` | — |
//! | user persona | `O#{owner}` | `U` | — |
//! | owner's totals (conversations, bytes) | `O#{owner}` | `S` | — |
//! | id guard | `ID#{conversation}` | `ID` | — |
//! | rate-limit bucket ([`DynamoRateLimiter`]) | `RL#{sub}` | `RL` | — |
//! | daily token count ([`DynamoRateLimiter`]) | `RLT#{sub}` | `D{days since the epoch}` | — |
//! | API key by hash ([`DynamoApiKeys`]) | `K#{sha256}` | `K` | — |
//! | API key by owner ([`DynamoApiKeys`]) | `O#{owner}` | `K#{created ns, padded}#{id}` | — |
//!
//! - Messages sort by their id: a UUIDv7, ordered by creation time, so a conversation's
//!   messages are one `Query` (the newest `n`: one `Query` in reverse with a limit).
//! - The sparse global secondary index `updated` holds only conversation items and lists
//!   an owner's conversations most recently updated first (`ScanIndexForward = false`); the
//!   list cursor is the position of the last item of a page. Reads of a global secondary
//!   index are eventually consistent: a conversation created or updated a moment ago may
//!   show in `list` (and `usage`) a moment later on real DynamoDB.
//! - A conversation item keeps, beside the conversation (as JSON in `data`), a version
//!   (`ver`, the optimistic lock every change is conditioned on), its message count
//!   (`msgs`), their bytes (`bytes`) and its newest message id (`last`): `usage` and
//!   `expect_last` read those instead of the messages.
//! - Token tallies are added to (`ADD`) in the same transaction as the splice that carries
//!   them, and outlive their conversation.
//! - The id guard keeps conversation ids unique across owners (a duplicate `create` is an
//!   error whoever owns the first one).
//! - The `expires` attribute is the table's time to live (used by items that should expire,
//!   such as rate-limit buckets).
//!
//! # Limits
//!
//! - An item holds at most 400 KB: a message or conversation too large for one is an
//!   [`Error::InvalidRequest`](link_core::Error::InvalidRequest) before anything is sent.
//! - One `TransactWriteItems` changes at most [`MAX_TRANSACTION_ITEMS`] items: a `create`
//!   with more first messages, or a splice that removes, rewrites and adds more messages
//!   than that at once, is an [`Error::InvalidRequest`](link_core::Error::InvalidRequest).
//! - Throttling and transaction conflicts are [`Error::Busy`](link_core::Error::Busy),
//!   which is retryable.
//!
//! # Where it differs from the SQLite store
//!
//! - Messages are ordered by id (creation time), SQLite's by insertion. They agree unless
//!   a message is stored after a newer one: two turns of one conversation running at once,
//!   where each user message is made before its model call and stored after it, interleave
//!   by creation time here. A per-conversation sequence in the message key would keep
//!   insertion order, at the price of finding a message by id for `replace` and
//!   `keep_through`.
//! - `list` and the owner totals of `usage` read a global secondary index, which is
//!   eventually consistent (see above); `get`, `messages`, `splice` and the per-conversation
//!   count of `usage` read the table with strong consistency.
//! - `delete` removes the conversation item (and its id guard) atomically, then its messages
//!   in transactions of up to [`MAX_TRANSACTION_ITEMS`]: a crash in between leaves messages
//!   that no read reaches (every read goes through the conversation item first).
//!
//! ```no_run
//! # async fn demo() -> link_core::Result<()> {
//! use link_core::ConversationStore;
//! use link_dynamodb::DynamoStore;
//!
//! let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
//! let client = aws_sdk_dynamodb::Client::new(&config);
//! DynamoStore::create_table(&client, "link").await?;
//! let store = DynamoStore::new(client, "link");
//! store.ping().await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod api_keys;
mod client;
mod codec;
mod error;
mod keys;
mod limit;
mod store;
mod table;

pub use api_keys::DynamoApiKeys;
/// The AWS SDK for DynamoDB, as this crate uses it.
pub use aws_sdk_dynamodb;
pub use client::client_from_env;
pub use codec::MAX_ITEM_BYTES;
pub use limit::DynamoRateLimiter;
pub use store::{DynamoStore, MAX_TRANSACTION_ITEMS};
