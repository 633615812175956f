//! The claim checks run after the signature, in the reference verifier's order:
//! `exp`/`nbf` (with grace), `iss`, `token_use`, client id, audience, groups, custom check.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::{AuthError, Claims};

/// A caller-supplied last check on verified claims; `Err(reason)` refuses the token.
/// The reason ends up in logs: it must not contain claim values such as an email.
pub(crate) type CustomCheck = Arc<dyn Fn(&Claims) -> Result<(), String> + Send + Sync>;

/// Which `token_use` values are accepted, and how to name them in an error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenUses {
    pub accepted: &'static [&'static str],
    pub label: &'static str,
}

/// What a verified token's claims must satisfy.
#[derive(Clone, Default)]
pub(crate) struct Policy {
    /// The exact `iss`; `None` skips the check.
    pub issuer: Option<String>,
    /// Grace for `exp` and `nbf`.
    pub leeway: Duration,
    pub token_uses: Option<TokenUses>,
    /// App client ids, checked against `aud` (ID tokens) or `client_id` (access tokens).
    pub client_ids: Vec<String>,
    /// Accepted `aud` values (general OIDC); empty skips the check.
    pub audiences: Vec<String>,
    /// The user must be in at least one of these groups; empty skips the check.
    pub groups: Vec<String>,
    pub custom: Option<CustomCheck>,
}

impl Policy {
    /// Runs every check against the current time.
    pub fn check(&self, claims: &Claims) -> Result<(), AuthError> {
        self.check_at(claims, unix_now())
    }

    pub fn check_at(&self, claims: &Claims, now: f64) -> Result<(), AuthError> {
        self.check_times(claims, now)?;
        self.check_issuer(claims)?;
        self.check_token_use(claims)?;
        self.check_client_id(claims)?;
        self.check_audience(claims)?;
        self.check_groups(claims)?;
        match &self.custom {
            Some(check) => check(claims).map_err(|reason| AuthError::CustomCheck { reason }),
            None => Ok(()),
        }
    }

    fn check_times(&self, claims: &Claims, now: f64) -> Result<(), AuthError> {
        let leeway = self.leeway.as_secs_f64();
        let exp = claims
            .numeric_date("exp")?
            .ok_or(AuthError::MissingClaim { claim: "exp" })?;
        if now >= exp + leeway {
            return Err(AuthError::Expired);
        }
        if let Some(nbf) = claims.numeric_date("nbf")?
            && nbf > now + leeway
        {
            return Err(AuthError::NotYetValid);
        }
        Ok(())
    }

    fn check_issuer(&self, claims: &Claims) -> Result<(), AuthError> {
        let Some(expected) = &self.issuer else {
            return Ok(());
        };
        match claims.get("iss") {
            None => Err(AuthError::MissingClaim { claim: "iss" }),
            Some(Value::String(iss)) if iss == expected => Ok(()),
            Some(Value::String(_)) => Err(AuthError::WrongIssuer),
            Some(_) => Err(AuthError::InvalidClaim { claim: "iss" }),
        }
    }

    fn check_token_use(&self, claims: &Claims) -> Result<(), AuthError> {
        let Some(uses) = self.token_uses else {
            return Ok(());
        };
        match claims.get("token_use") {
            None => Err(AuthError::MissingClaim { claim: "token_use" }),
            Some(Value::String(used)) if uses.accepted.contains(&used.as_str()) => Ok(()),
            Some(_) => Err(AuthError::WrongTokenUse {
                expected: uses.label,
            }),
        }
    }

    fn check_client_id(&self, claims: &Claims) -> Result<(), AuthError> {
        if self.client_ids.is_empty() {
            return Ok(());
        }
        // Cognito puts the app client id in `aud` on ID tokens and in `client_id` on access
        // tokens (which have no `aud`).
        let claim = match claims.token_use() {
            Some("access") => "client_id",
            _ => "aud",
        };
        match claims.get(claim) {
            None => Err(AuthError::MissingClaim { claim }),
            Some(value) if contains_any(value, &self.client_ids) => Ok(()),
            Some(Value::String(_) | Value::Array(_)) => Err(AuthError::WrongClientId),
            Some(_) => Err(AuthError::InvalidClaim { claim }),
        }
    }

    fn check_audience(&self, claims: &Claims) -> Result<(), AuthError> {
        if self.audiences.is_empty() {
            return Ok(());
        }
        match claims.get("aud") {
            None => Err(AuthError::MissingClaim { claim: "aud" }),
            Some(value) if contains_any(value, &self.audiences) => Ok(()),
            Some(Value::String(_) | Value::Array(_)) => Err(AuthError::WrongAudience),
            Some(_) => Err(AuthError::InvalidClaim { claim: "aud" }),
        }
    }

    fn check_groups(&self, claims: &Claims) -> Result<(), AuthError> {
        if self.groups.is_empty() {
            return Ok(());
        }
        let has = claims.groups();
        if self.groups.iter().any(|g| has.contains(&g.as_str())) {
            Ok(())
        } else {
            Err(AuthError::MissingGroup)
        }
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("issuer", &self.issuer)
            .field("leeway", &self.leeway)
            .field("token_uses", &self.token_uses.map(|u| u.label))
            .field("client_ids", &self.client_ids)
            .field("audiences", &self.audiences)
            .field("groups", &self.groups)
            .field("custom", &self.custom.is_some())
            .finish()
    }
}

/// A string claim equal to, or an array claim containing, one of `accepted`.
fn contains_any(value: &Value, accepted: &[String]) -> bool {
    match value {
        Value::String(s) => accepted.iter().any(|a| a == s),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .any(|s| accepted.iter().any(|a| a == s)),
        _ => false,
    }
}

/// Seconds since the Unix epoch; a clock before 1970 counts as 0 (and so expires nothing
/// wrongly valid: every real `exp` is later).
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Claims {
        Claims::from_json(value).unwrap()
    }

    #[test]
    fn times_honour_the_grace() {
        let policy = Policy {
            leeway: Duration::from_secs(30),
            ..Policy::default()
        };
        let c = claims(json!({"exp": 1000, "nbf": 900}));
        assert_eq!(policy.check_at(&c, 1029.0), Ok(()));
        assert_eq!(policy.check_at(&c, 1030.0), Err(AuthError::Expired));
        assert_eq!(policy.check_at(&c, 871.0), Ok(()));
        assert_eq!(policy.check_at(&c, 869.0), Err(AuthError::NotYetValid));
        assert_eq!(
            policy.check_at(&claims(json!({})), 0.0),
            Err(AuthError::MissingClaim { claim: "exp" })
        );
        assert_eq!(
            policy.check_at(&claims(json!({"exp": "later"})), 0.0),
            Err(AuthError::InvalidClaim { claim: "exp" })
        );
    }

    #[test]
    fn audience_accepts_strings_and_arrays() {
        let policy = Policy {
            audiences: vec!["api".into()],
            ..Policy::default()
        };
        let ok = claims(json!({"exp": 10, "aud": ["other", "api"]}));
        assert_eq!(policy.check_at(&ok, 0.0), Ok(()));
        let wrong = claims(json!({"exp": 10, "aud": "other"}));
        assert_eq!(policy.check_at(&wrong, 0.0), Err(AuthError::WrongAudience));
        let none = claims(json!({"exp": 10}));
        assert_eq!(
            policy.check_at(&none, 0.0),
            Err(AuthError::MissingClaim { claim: "aud" })
        );
    }

    #[test]
    fn custom_check_runs_last_and_carries_its_reason() {
        let policy = Policy {
            groups: vec!["admin".into()],
            custom: Some(Arc::new(|c: &Claims| {
                if c.get_str("tier") == Some("gold") {
                    Ok(())
                } else {
                    Err("not gold".into())
                }
            })),
            ..Policy::default()
        };
        let no_group = claims(json!({"exp": 10, "tier": "gold"}));
        assert_eq!(
            policy.check_at(&no_group, 0.0),
            Err(AuthError::MissingGroup)
        );
        let silver = claims(json!({"exp": 10, "tier": "silver", "cognito:groups": ["admin"]}));
        assert_eq!(
            policy.check_at(&silver, 0.0),
            Err(AuthError::CustomCheck {
                reason: "not gold".into()
            })
        );
    }
}
