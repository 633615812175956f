//! The [`Authenticator`] checks: a valid token gives its principal; expired, tampered and
//! malformed tokens are refused with [`Error::Unauthorized`], whose Display and Debug never
//! contain the token.

use super::{expect_err, expect_ok};
use crate::{Authenticator, Error};

/// Tokens for the checks, minted by the adapter's test with the adapter's own keys.
#[derive(Clone)]
pub struct Tokens {
    /// The subject `valid` was minted for.
    pub sub: String,
    /// A good token for `sub`.
    pub valid: String,
    /// A token that was good but expired, beyond any leeway the authenticator allows.
    pub expired: String,
    /// A token whose content was changed after signing (e.g. another `sub` under the
    /// original signature).
    pub tampered: String,
}

/// Runs every check of this module, in order.
pub async fn authenticator(auth: &dyn Authenticator, tokens: &Tokens) {
    a_valid_token_gives_its_principal(auth, tokens).await;
    an_expired_token_is_unauthorized(auth, tokens).await;
    a_tampered_token_is_unauthorized(auth, tokens).await;
    a_malformed_token_is_unauthorized(auth, tokens).await;
}

/// The token's parts long enough to be recognised if an error echoed them.
fn fragments(token: &str) -> impl Iterator<Item = &str> {
    std::iter::once(token)
        .chain(token.split('.'))
        .filter(|part| part.len() >= 8)
}

/// `token` is refused with [`Error::Unauthorized`], and the error shows no part of it.
async fn assert_refused(auth: &dyn Authenticator, token: &str, rule: &str) {
    let err = expect_err(auth.authenticate(token).await, rule);
    assert!(
        matches!(err, Error::Unauthorized { .. }),
        "{rule}: expected Error::Unauthorized, got {:?}",
        err.code()
    );
    let shown = format!("{err}\n{err:?}");
    for fragment in fragments(token) {
        // Not printing `shown` or the fragment: that would put the token in the test log.
        assert!(
            !shown.contains(fragment),
            "{rule}: the error's Display or Debug contains the token"
        );
    }
}

/// A valid token authenticates as its subject, and keeps doing so (verifying is not
/// consuming).
pub async fn a_valid_token_gives_its_principal(auth: &dyn Authenticator, tokens: &Tokens) {
    for _ in 0..2 {
        let principal = expect_ok(auth.authenticate(&tokens.valid).await, "a valid token");
        assert_eq!(
            principal.sub, tokens.sub,
            "a valid token must give its subject"
        );
    }
}

/// An expired token is [`Error::Unauthorized`].
pub async fn an_expired_token_is_unauthorized(auth: &dyn Authenticator, tokens: &Tokens) {
    assert_refused(auth, &tokens.expired, "an expired token").await;
}

/// A tampered token is [`Error::Unauthorized`].
pub async fn a_tampered_token_is_unauthorized(auth: &dyn Authenticator, tokens: &Tokens) {
    assert_refused(auth, &tokens.tampered, "a tampered token").await;
}

/// Empty, garbage and unsigned tokens (the valid one with its signature cut off, or with a
/// character appended to it) are [`Error::Unauthorized`].
pub async fn a_malformed_token_is_unauthorized(auth: &dyn Authenticator, tokens: &Tokens) {
    let unsigned = match tokens.valid.rsplit_once('.') {
        Some((signed_part, _)) => format!("{signed_part}."),
        None => String::new(),
    };
    let extended = format!("{}A", tokens.valid);
    let malformed = ["", "not-a-token", "a.b.c", &unsigned, &extended];
    for token in malformed {
        assert_refused(auth, token, "a malformed token").await;
    }
}
