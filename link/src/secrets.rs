//! Secrets: read from the environment only, never from flags (which show in process
//! listings), and never shown by `Debug` or logged.

use secrecy::SecretString;

/// Every secret Link reads. `Debug` shows which are set, never their values.
///
/// ```
/// let secrets = link::Secrets::from_lookup(|name| {
///     (name == "OPENAI_API_KEY").then(|| "sk-test".to_owned())
/// });
/// assert!(secrets.openai_api_key.is_some());
/// assert!(!format!("{secrets:?}").contains("sk-test"));
/// ```
#[derive(Clone, Default)]
pub struct Secrets {
    /// `OPENAI_API_KEY`.
    pub openai_api_key: Option<SecretString>,
    /// `LINK_DEV_SECRET`: the HMAC key of dev tokens, at least 32 bytes.
    pub dev_secret: Option<SecretString>,
    /// `COGNITO_CLIENT_SECRET`: the Cognito app client's secret, when it has one.
    pub cognito_client_secret: Option<SecretString>,
}

impl Secrets {
    /// The secrets in the process environment; empty variables count as unset.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The secrets from any lookup of environment names.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let secret = |name: &str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .map(SecretString::from)
        };
        Self {
            openai_api_key: secret("OPENAI_API_KEY"),
            dev_secret: secret("LINK_DEV_SECRET"),
            cognito_client_secret: secret("COGNITO_CLIENT_SECRET"),
        }
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |s: &Option<SecretString>| if s.is_some() { "[set]" } else { "[unset]" };
        f.debug_struct("Secrets")
            .field("openai_api_key", &set(&self.openai_api_key))
            .field("dev_secret", &set(&self.dev_secret))
            .field("cognito_client_secret", &set(&self.cognito_client_secret))
            .finish()
    }
}
