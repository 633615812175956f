//! The verified payload of a token, and the [`Principal`] taken from it.

use std::fmt;

use link_core::{Principal, TokenUse};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::AuthError;

/// The claims of a token whose signature has been verified.
///
/// Handed to custom checks and returned by `verify`. Its `Debug` output lists claim names
/// only, never values, since ID tokens may carry email addresses and other attributes.
///
/// ```
/// use link_auth::Claims;
/// let claims = Claims::from_json(serde_json::json!({"sub": "u-1", "cognito:groups": ["admin"]}))
///     .unwrap();
/// assert_eq!(claims.sub(), Some("u-1"));
/// assert_eq!(claims.groups(), vec!["admin"]);
/// ```
#[derive(Clone, PartialEq)]
pub struct Claims {
    map: Map<String, Value>,
}

impl Claims {
    pub(crate) fn new(map: Map<String, Value>) -> Self {
        Self { map }
    }

    /// Claims from a JSON object (for tests and custom checks); `None` if `value` is not one.
    pub fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self { map }),
            _ => None,
        }
    }

    /// A claim's raw value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name)
    }

    /// A claim's value when it is a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(Value::as_str)
    }

    /// The subject (`sub`).
    pub fn sub(&self) -> Option<&str> {
        self.get_str("sub")
    }

    /// `token_use` (`"id"`, `"access"`, or `"dev"` for dev tokens).
    pub fn token_use(&self) -> Option<&str> {
        self.get_str("token_use")
    }

    /// The username: `cognito:username` (ID tokens) or `username` (access tokens).
    pub fn username(&self) -> Option<&str> {
        self.get_str("cognito:username")
            .or_else(|| self.get_str("username"))
    }

    /// The user's groups (`cognito:groups`); empty when absent.
    pub fn groups(&self) -> Vec<&str> {
        match self.map.get("cognito:groups") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// A NumericDate claim (`exp`, `nbf`, `iat`): `Ok(None)` when absent, an error when it is
    /// not a number.
    pub(crate) fn numeric_date(&self, claim: &'static str) -> Result<Option<f64>, AuthError> {
        match self.map.get(claim) {
            None => Ok(None),
            Some(value) => value
                .as_f64()
                .map(Some)
                .ok_or(AuthError::InvalidClaim { claim }),
        }
    }

    /// The principal these claims prove: subject, username, groups, token use, expiry and
    /// nothing else (no email or other attribute is copied).
    pub fn to_principal(&self) -> Result<Principal, AuthError> {
        let sub = match self.map.get("sub") {
            None => return Err(AuthError::MissingClaim { claim: "sub" }),
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            Some(_) => return Err(AuthError::InvalidClaim { claim: "sub" }),
        };
        let token_use = match self.token_use() {
            Some("id") => Some(TokenUse::Id),
            Some("access") => Some(TokenUse::Access),
            Some("dev") => Some(TokenUse::Dev),
            _ => None,
        };
        let expires_at = self
            .numeric_date("exp")?
            .and_then(|exp| OffsetDateTime::from_unix_timestamp(exp.floor() as i64).ok());
        Ok(Principal {
            sub,
            username: self.username().map(str::to_owned),
            groups: self.groups().into_iter().map(str::to_owned).collect(),
            token_use,
            expires_at,
        })
    }
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("names", &self.map.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn principal_keeps_only_what_link_needs() {
        let claims = Claims::from_json(json!({
            "sub": "abc", "cognito:username": "alice", "email": "alice@example.com",
            "cognito:groups": ["admin", "beta"], "token_use": "id", "exp": 1_900_000_000
        }))
        .unwrap();
        let principal = claims.to_principal().unwrap();
        assert_eq!(principal.sub, "abc");
        assert_eq!(principal.username.as_deref(), Some("alice"));
        assert_eq!(principal.groups, vec!["admin", "beta"]);
        assert_eq!(principal.token_use, Some(TokenUse::Id));
        assert_eq!(
            principal.expires_at.unwrap().unix_timestamp(),
            1_900_000_000
        );
        assert!(!format!("{principal:?}").contains("example.com"));
        assert!(!format!("{claims:?}").contains("example.com"));
    }

    #[test]
    fn access_tokens_use_the_username_claim_and_sub_is_required() {
        let claims = Claims::from_json(json!({"sub": "x", "username": "bob"})).unwrap();
        assert_eq!(claims.username(), Some("bob"));
        let no_sub = Claims::from_json(json!({"username": "bob"})).unwrap();
        assert_eq!(
            no_sub.to_principal(),
            Err(AuthError::MissingClaim { claim: "sub" })
        );
        let bad_exp = Claims::from_json(json!({"sub": "x", "exp": "soon"})).unwrap();
        assert_eq!(
            bad_exp.to_principal(),
            Err(AuthError::InvalidClaim { claim: "exp" })
        );
    }
}
