//! The rules of [`ApiKeyStore`]: a key is found by its hash until it is revoked, listed and
//! revoked only by its owner.

use super::{expect_ok, unique};
use crate::{ApiKeyStore, IssuedApiKey};

/// Every rule of [`ApiKeyStore`].
pub async fn api_key_store(store: &dyn ApiKeyStore) {
    a_key_is_found_by_its_hash_only(store).await;
    keys_are_listed_per_owner_oldest_first(store).await;
    only_the_owner_revokes_and_a_revoked_key_is_gone(store).await;
}

/// A stored key is found by its hash, with every field as stored; another hash finds nothing.
pub async fn a_key_is_found_by_its_hash_only(store: &dyn ApiKeyStore) {
    let issued = IssuedApiKey::generate(&unique("alice"), "webui");
    expect_ok(store.insert(&issued.key, &issued.hash()).await, "insert");
    let found = expect_ok(store.find(&issued.hash()).await, "find");
    assert_eq!(
        found.as_ref(),
        Some(&issued.key),
        "a key must be found by its hash as stored"
    );
    let other = IssuedApiKey::generate("x", "y");
    let missing = expect_ok(store.find(&other.hash()).await, "find");
    assert_eq!(missing, None, "an unknown hash must find no key");
}

/// `list` gives an owner's keys, oldest first, and nobody else's.
pub async fn keys_are_listed_per_owner_oldest_first(store: &dyn ApiKeyStore) {
    let owner = unique("bob");
    let first = IssuedApiKey::generate(&owner, "first");
    let second = IssuedApiKey::generate(&owner, "second");
    let other = IssuedApiKey::generate(&unique("carol"), "theirs");
    for key in [&first, &second, &other] {
        expect_ok(store.insert(&key.key, &key.hash()).await, "insert");
    }
    let listed = expect_ok(store.list(&owner).await, "list");
    let names: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        ["first", "second"],
        "list must give the owner's keys only, oldest first"
    );
}

/// Another user cannot revoke a key; its owner can, once, and then it is found no more.
pub async fn only_the_owner_revokes_and_a_revoked_key_is_gone(store: &dyn ApiKeyStore) {
    let owner = unique("dave");
    let issued = IssuedApiKey::generate(&owner, "cli");
    expect_ok(store.insert(&issued.key, &issued.hash()).await, "insert");
    let stranger = expect_ok(store.revoke("mallory", &issued.key.id).await, "revoke");
    assert!(!stranger, "another user must not revoke a key");
    assert!(
        expect_ok(store.find(&issued.hash()).await, "find").is_some(),
        "a key another user tried to revoke must still work"
    );
    assert!(
        expect_ok(store.revoke(&owner, &issued.key.id).await, "revoke"),
        "the owner must revoke their key"
    );
    assert_eq!(
        expect_ok(store.find(&issued.hash()).await, "find"),
        None,
        "a revoked key must not be found"
    );
    assert!(
        !expect_ok(store.revoke(&owner, &issued.key.id).await, "revoke"),
        "revoking twice must say there was nothing to revoke"
    );
    assert!(expect_ok(store.list(&owner).await, "list").is_empty());
}
