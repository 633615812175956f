//! Conformance suites: the behaviour every adapter of a port must show, as object_store's
//! `integration` module does for its backends.
//!
//! Each rule is a public async function of its own, taking `&dyn Trait` and panicking with a
//! message that names the broken rule, so an adapter can run one rule alone. Each port also
//! has one function that runs all of its rules, so an adapter's test is one line:
//!
//! ```no_run
//! # async fn demo(model: &dyn link_core::ChatModel, store: &dyn link_core::ConversationStore) {
//! use link_core::testing::conformance;
//! conformance::chat_model(model).await;
//! conformance::conversation_store(store).await;
//! conformance::store::get_is_owner_scoped(store).await;
//! # }
//! ```
//!
//! | port | every rule | the rules |
//! |---|---|---|
//! | `ChatModel` | [`chat_model`] | [`chat`] |
//! | `PersonaExtractor` | [`persona_extractor`] | [`extractor`] |
//! | `ConversationStore` | [`conversation_store`] | [`store`] |
//! | `Authenticator` | [`authenticator`] | [`auth`] |
//! | `RateLimiter` | [`rate_limiter`] | [`limit`] |
//! | `Moderator` | [`moderator()`] | [`moderator`](mod@moderator) |
//! | `ApiKeyStore` | [`api_key_store`] | [`api_keys`] |

pub mod api_keys;
pub mod auth;
pub mod chat;
pub mod extractor;
pub mod limit;
pub mod moderator;
pub mod store;
pub mod store_avatar;
pub mod store_controls;
pub mod store_memory;
pub mod store_tokens;
pub mod store_turn;
pub mod store_usage;

pub use api_keys::api_key_store;
pub use auth::{Tokens, authenticator};
pub use chat::chat_model;
pub use extractor::persona_extractor;
pub use limit::rate_limiter;
pub use moderator::{Texts, moderator};
pub use store::conversation_store;

/// The value of a call the rule needs to succeed; panics naming the call otherwise.
fn expect_ok<T>(result: crate::Result<T>, call: &str) -> T {
    result.unwrap_or_else(|err| panic!("{call} failed: {err}"))
}

/// The error of a call the rule needs to fail; panics naming the rule otherwise.
fn expect_err<T: std::fmt::Debug>(result: crate::Result<T>, rule: &str) -> crate::Error {
    match result {
        Ok(value) => panic!("{rule}: expected an error, got Ok({value:?})"),
        Err(err) => err,
    }
}

/// `name` with a fresh suffix, so every check uses owners and principals of its own and the
/// checks can run in any order, or twice, on one adapter.
fn unique(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::new_v4())
}
