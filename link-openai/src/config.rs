//! Where and how to reach OpenAI or an OpenAI-compatible server.
//!
//! The base URL **includes the API version** (`https://api.openai.com/v1`), exactly like
//! `OPENAI_BASE_URL` in the official SDKs; requests go to `{base_url}/chat/completions`.
//! So a local server is configured with its `/v1` base: Ollama `http://localhost:11434/v1`,
//! vLLM `http://localhost:8000/v1`, llama.cpp server `http://localhost:8080/v1`, LM Studio
//! `http://localhost:1234/v1`. Those need no key: the `Authorization` header is only sent
//! when one is configured, and only OpenAI's own host insists on one.

use std::fmt;
use std::time::Duration;

use link_core::{Error, Result};
use secrecy::SecretString;

use crate::RetryPolicy;

/// OpenAI's API base, used when none is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The model used when none is configured.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// Which request field carries the token limit.
///
/// `max_tokens` is what every OpenAI-compatible server and `gpt-4o*` accept; OpenAI's
/// reasoning models (`o1`, `o3`, `gpt-5`, ...) refuse it and want `max_completion_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaxTokensParam {
    /// Send `max_tokens` (the default).
    #[default]
    MaxTokens,
    /// Send `max_completion_tokens`.
    MaxCompletionTokens,
}

/// A validated configuration, shared by [`OpenAiChatModel`](crate::OpenAiChatModel) and
/// [`OpenAiPersonaExtractor`](crate::OpenAiPersonaExtractor). Its `Debug` output never shows
/// the API key.
///
/// ```
/// use std::time::Duration;
/// use link_openai::OpenAiConfig;
///
/// let config = OpenAiConfig::builder()
///     .api_key("sk-test")
///     .model("gpt-4o-mini")
///     .timeout(Duration::from_secs(30))
///     .build()
///     .unwrap();
/// assert_eq!(config.base_url(), "https://api.openai.com/v1");
/// assert!(!format!("{config:?}").contains("sk-test"));
///
/// // A local Ollama server: no key needed.
/// let local = OpenAiConfig::builder().base_url("http://localhost:11434/v1/").model("llama3.2").build().unwrap();
/// assert_eq!(local.base_url(), "http://localhost:11434/v1");
/// ```
#[derive(Clone)]
pub struct OpenAiConfig {
    pub(crate) api_key: Option<SecretString>,
    pub(crate) base_url: String,
    pub(crate) model: String,
    pub(crate) organization: Option<String>,
    pub(crate) project: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) stream_idle_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) client: reqwest::Client,
    pub(crate) max_tokens_param: MaxTokensParam,
    pub(crate) stream_usage: bool,
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("timeout", &self.timeout)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("retry", &self.retry)
            .field("max_tokens_param", &self.max_tokens_param)
            .field("stream_usage", &self.stream_usage)
            .finish_non_exhaustive()
    }
}

impl OpenAiConfig {
    /// A builder with every default in place.
    pub fn builder() -> OpenAiConfigBuilder {
        OpenAiConfigBuilder::default()
    }

    /// The configuration from `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID` and
    /// `OPENAI_PROJECT_ID`; fails with [`Error::Config`] when neither a key nor a base URL is
    /// set. See [`OpenAiConfigBuilder::from_env`] to adjust it before building.
    pub fn from_env() -> Result<Self> {
        OpenAiConfigBuilder::from_env().build()
    }

    /// The same configuration with another model (e.g. one model for extraction, another for
    /// chat).
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The model requests name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The API base, including its version path and without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// `{base_url}/{path}`.
    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url)
    }
}

/// Builds an [`OpenAiConfig`].
#[derive(Clone, Default)]
pub struct OpenAiConfigBuilder {
    api_key: Option<SecretString>,
    base_url: Option<String>,
    model: Option<String>,
    organization: Option<String>,
    project: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    stream_idle_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    client: Option<reqwest::Client>,
    max_tokens_param: MaxTokensParam,
    stream_usage: Option<bool>,
}

impl fmt::Debug for OpenAiConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfigBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl OpenAiConfigBuilder {
    /// A builder filled from the environment (`OPENAI_API_KEY`, `OPENAI_BASE_URL`,
    /// `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`); empty variables count as unset.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env) with any lookup, so callers (and tests) need not
    /// touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Self {
            api_key: var("OPENAI_API_KEY").map(SecretString::from),
            base_url: var("OPENAI_BASE_URL"),
            organization: var("OPENAI_ORG_ID"),
            project: var("OPENAI_PROJECT_ID"),
            ..Self::default()
        }
    }

    /// The API key, sent as `Authorization: Bearer ...`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// The API base including its version path (default [`DEFAULT_BASE_URL`]).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The model (default [`DEFAULT_MODEL`]).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sent as the `OpenAI-Organization` header.
    pub fn organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// Sent as the `OpenAI-Project` header.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// The longest a whole (non-streamed) request may take, and the longest a stream may take
    /// to start answering (default 600 s, as in the official SDKs). Each attempt has its own.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The longest to wait for a connection (default 10 s). Ignored with [`client`](Self::client):
    /// configure that client instead.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The longest a stream may stay silent between two events (default 60 s).
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = Some(timeout);
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// A `reqwest::Client` of the caller's own (proxies, TLS roots, pools).
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Which field carries the token limit (default `max_tokens`).
    pub fn max_tokens_param(mut self, param: MaxTokensParam) -> Self {
        self.max_tokens_param = param;
        self
    }

    /// Whether streams ask for a final usage chunk (`stream_options.include_usage`, default
    /// true). Turn it off for a server that refuses `stream_options`.
    pub fn stream_usage(mut self, include: bool) -> Self {
        self.stream_usage = Some(include);
        self
    }

    /// Checks the settings and builds the configuration.
    pub fn build(self) -> Result<OpenAiConfig> {
        let base_url = self
            .base_url
            .as_deref()
            .unwrap_or(DEFAULT_BASE_URL)
            .trim()
            .trim_end_matches('/')
            .to_owned();
        let url = reqwest::Url::parse(&base_url)
            .map_err(|e| config(format!("OPENAI_BASE_URL {base_url:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(config(format!(
                "OPENAI_BASE_URL {base_url:?} must be http or https"
            )));
        }
        if self.api_key.is_none() && url.host_str() == Some("api.openai.com") {
            return Err(config(
                "no OpenAI API key: set OPENAI_API_KEY, or OPENAI_BASE_URL for a compatible server",
            ));
        }
        let model = self.model.unwrap_or_else(|| DEFAULT_MODEL.to_owned());
        if model.trim().is_empty() {
            return Err(config("the model name is empty"));
        }
        let client = match self.client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)))
                .build()
                .map_err(|e| config(format!("cannot build the HTTP client: {e}")))?,
        };
        Ok(OpenAiConfig {
            api_key: self.api_key,
            base_url,
            model,
            organization: self.organization,
            project: self.project,
            timeout: self.timeout.unwrap_or(Duration::from_secs(600)),
            stream_idle_timeout: self.stream_idle_timeout.unwrap_or(Duration::from_secs(60)),
            retry: self.retry.unwrap_or_default(),
            client,
            max_tokens_param: self.max_tokens_param,
            stream_usage: self.stream_usage.unwrap_or(true),
        })
    }
}

fn config(message: impl Into<String>) -> Error {
    Error::Config {
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn nothing_configured_is_a_clear_error() {
        let err = OpenAiConfigBuilder::from_lookup(env(&[]))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config { ref message } if message.contains("OPENAI_API_KEY")));
        let blank = OpenAiConfigBuilder::from_lookup(env(&[("OPENAI_API_KEY", "  ")]));
        assert!(blank.build().is_err(), "a blank key counts as unset");
    }

    #[test]
    fn environment_is_read() {
        let config = OpenAiConfigBuilder::from_lookup(env(&[
            ("OPENAI_API_KEY", "sk-env-secret"),
            ("OPENAI_ORG_ID", "org-1"),
            ("OPENAI_PROJECT_ID", "proj-1"),
        ]))
        .build()
        .unwrap();
        assert_eq!(
            config.api_key.as_ref().unwrap().expose_secret(),
            "sk-env-secret"
        );
        assert_eq!(config.organization.as_deref(), Some("org-1"));
        assert_eq!(config.project.as_deref(), Some("proj-1"));
        assert_eq!(config.model(), DEFAULT_MODEL);
        assert!(!format!("{config:?}").contains("sk-env-secret"));
    }

    #[test]
    fn a_compatible_server_needs_no_key() {
        let config = OpenAiConfigBuilder::from_lookup(env(&[(
            "OPENAI_BASE_URL",
            "http://127.0.0.1:8080/v1/",
        )]))
        .build()
        .unwrap();
        assert_eq!(
            config.endpoint("chat/completions"),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
        assert!(config.api_key.is_none());
    }

    #[test]
    fn bad_urls_and_models_are_refused() {
        for url in ["not a url", "ftp://example.com/v1"] {
            let err = OpenAiConfig::builder().base_url(url).build().unwrap_err();
            assert!(matches!(err, Error::Config { .. }), "{url}");
        }
        let err = OpenAiConfig::builder()
            .api_key("k")
            .model(" ")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config { .. }));
    }
}
