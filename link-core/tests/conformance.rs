//! The in-crate implementations pass the suites every adapter runs, and each suite fails an
//! implementation that breaks one of its rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use link_core::testing::{
    MockAuthenticator, MockConversationStore, ScriptedChatModel, ScriptedExtractor, conformance,
};
use link_core::{Error, MemoryStore, Principal, RateDecision, RateLimiter};

#[tokio::test]
async fn memory_store_conforms() {
    conformance::conversation_store(&MemoryStore::default()).await;
}

#[tokio::test]
async fn a_shared_memory_store_conforms_twice() {
    // Through the Arc forward, and with the leftovers of a first run in the store.
    let store = Arc::new(MemoryStore::default());
    conformance::conversation_store(&store).await;
    conformance::conversation_store(&store).await;
}

#[tokio::test]
async fn scripted_model_conforms() {
    let model = ScriptedChatModel::replying(["Elementary, my dear Watson."]);
    conformance::chat_model(&model).await;
    assert_eq!(model.live_streams(), 0);
}

#[tokio::test]
async fn scripted_extractor_conforms() {
    let persona =
        conformance::persona_extractor(&ScriptedExtractor::default(), "Sherlock Holmes").await;
    assert_eq!(persona.name, "Sherlock Holmes");
}

#[tokio::test]
#[should_panic(expected = "complete returned empty text")]
async fn the_chat_suite_catches_a_silent_model() {
    conformance::chat_model(&ScriptedChatModel::replying([" "])).await;
}

#[tokio::test]
#[should_panic(expected = "messages of a missing conversation: expected an error")]
async fn the_store_suite_catches_an_empty_list_for_a_missing_conversation() {
    let mut store = MockConversationStore::new();
    store.expect_messages().returning(|_, _, _| Ok(Vec::new()));
    conformance::store::messages_of_a_missing_conversation_are_not_found(&store).await;
}

const VALID: &str = "header.valid-payload.signature";

fn tokens() -> conformance::Tokens {
    conformance::Tokens {
        sub: "alice".into(),
        valid: VALID.into(),
        expired: "header.expired-payload.signature".into(),
        tampered: "header.tampered-payload.signature".into(),
    }
}

/// An authenticator that knows one token and refuses every other with `refusal(token)`.
fn one_token_authenticator(refusal: fn(&str) -> Error) -> MockAuthenticator {
    let mut auth = MockAuthenticator::new();
    auth.expect_authenticate().returning(move |token| {
        if token == VALID {
            Ok(Principal::new("alice"))
        } else {
            Err(refusal(token))
        }
    });
    auth
}

#[tokio::test]
async fn an_authenticator_that_refuses_plainly_conforms() {
    let auth = one_token_authenticator(|_| Error::unauthorized("invalid token"));
    conformance::authenticator(&auth, &tokens()).await;
}

#[tokio::test]
#[should_panic(expected = "an expired token: the error's Display or Debug contains the token")]
async fn the_auth_suite_catches_an_error_that_echoes_the_token() {
    let auth = one_token_authenticator(|token| Error::unauthorized(format!("bad token {token}")));
    conformance::authenticator(&auth, &tokens()).await;
}

#[tokio::test]
#[should_panic(expected = "an expired token: expected Error::Unauthorized")]
async fn the_auth_suite_catches_the_wrong_error() {
    let auth = one_token_authenticator(|_| Error::invalid("bad token"));
    conformance::authenticator(&auth, &tokens()).await;
}

/// A fixed-window counter per principal, or one counter for everybody when `shared`.
#[derive(Debug, Default)]
struct Counter {
    limit: u32,
    shared: bool,
    used: Mutex<HashMap<String, u32>>,
}

impl RateLimiter for Counter {
    fn check(&self, principal: &Principal) -> RateDecision {
        let key = if self.shared { "" } else { &principal.sub };
        let mut used = self.used.lock().unwrap();
        let count = used.entry(key.to_owned()).or_default();
        if *count == self.limit {
            return RateDecision::Denied {
                limit: self.limit,
                retry_after: Duration::from_secs(1),
            };
        }
        *count += 1;
        RateDecision::Allowed {
            limit: self.limit,
            remaining: self.limit - *count,
        }
    }
}

#[test]
fn a_limiter_keyed_by_principal_conforms() {
    conformance::rate_limiter(&Counter {
        limit: 5,
        ..Counter::default()
    });
}

#[test]
#[should_panic(expected = "the first request of a fresh principal must be allowed")]
fn the_limit_suite_catches_a_bucket_shared_by_everyone() {
    conformance::rate_limiter(&Counter {
        limit: 5,
        shared: true,
        ..Counter::default()
    });
}

#[tokio::test]
async fn the_scripted_moderator_conforms() {
    let moderator = link_core::testing::ScriptedModerator::blocking([("dragon", "violence")]);
    let texts = link_core::testing::conformance::Texts {
        clean: "A quiet evening by the fire.".into(),
        flagged: "Here be dragons.".into(),
    };
    link_core::testing::conformance::moderator(&moderator, &texts).await;
}

#[tokio::test]
async fn a_limited_memory_store_conforms() {
    let store = link_core::LimitStore::new(MemoryStore::default(), 1);
    conformance::conversation_store(&store).await;
}
