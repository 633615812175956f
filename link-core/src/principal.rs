//! Who is making a request, as proven by an [`Authenticator`](crate::Authenticator).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Which kind of token proved the identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenUse {
    /// An OpenID Connect ID token.
    Id,
    /// An OAuth access token.
    Access,
    /// A token minted locally for development.
    Dev,
    /// A long-lived Link API key (see [`ApiKey`](crate::ApiKey)).
    ApiKey,
}

/// An authenticated caller.
///
/// Only what Link needs is kept: the stable subject, a display username, groups and expiry.
/// Email and other profile claims are never copied here, so they cannot leak into logs.
///
/// ```
/// use link_core::Principal;
/// let alice = Principal::new("7f1c-alice");
/// assert_eq!(alice.sub, "7f1c-alice");
/// assert!(alice.groups.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The stable subject identifier (Cognito `sub`); everything a user owns is keyed by it.
    pub sub: String,
    /// A human-readable username, when the token carried one.
    pub username: Option<String>,
    /// Groups the user belongs to (`cognito:groups`).
    pub groups: Vec<String>,
    /// What kind of token proved this identity.
    pub token_use: Option<TokenUse>,
    /// When the token expires.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

impl Principal {
    /// A principal with only a subject.
    pub fn new(sub: impl Into<String>) -> Self {
        Self {
            sub: sub.into(),
            username: None,
            groups: Vec::new(),
            token_use: None,
            expires_at: None,
        }
    }

    /// Whether the principal is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}
