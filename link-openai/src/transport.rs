//! Sending one request (Chat Completions, moderation), with headers, timeouts and retries.

use std::sync::Arc;

use link_core::{Error, Result};
use reqwest::header::ACCEPT;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::config::OpenAiConfig;
use crate::error::ErrorMapper;
use crate::retry;

/// What both adapters share: the configuration and the error mapper.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub config: Arc<OpenAiConfig>,
    pub errors: ErrorMapper,
}

impl Transport {
    pub fn new(config: OpenAiConfig) -> Self {
        let errors = ErrorMapper::new(config.api_key.clone());
        Self {
            config: Arc::new(config),
            errors,
        }
    }

    /// POSTs `body` to `/chat/completions` and returns the successful response, retrying per
    /// the policy. For a stream, the timeout covers the response head only (the body has its
    /// own idle timeout); otherwise it covers the whole request.
    pub async fn post_chat(
        &self,
        body: &impl Serialize,
        stream: bool,
    ) -> Result<reqwest::Response> {
        self.post("chat/completions", body, stream).await
    }

    /// POSTs `body` to `{base_url}/{path}` as [`post_chat`](Self::post_chat) does.
    pub async fn post(
        &self,
        path: &str,
        body: &impl Serialize,
        stream: bool,
    ) -> Result<reqwest::Response> {
        let url = self.config.endpoint(path);
        retry::send_with_retry(&self.config.retry, &self.errors, || {
            let request = self.request(&url, body, stream);
            async move {
                let sent = if stream {
                    tokio::time::timeout(self.config.timeout, request.send())
                        .await
                        .map_err(|_| timeout())?
                } else {
                    request.timeout(self.config.timeout).send().await
                };
                sent.map_err(|e| self.errors.transport(&e))
            }
        })
        .await
    }

    /// Reads a successful whole response as JSON. A body cut off in transit is a provider
    /// failure; a body that is not the expected JSON is malformed output.
    pub async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
    ) -> Result<T> {
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.errors.transport(&e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::MalformedOutput {
            message: format!("the completion is not the expected JSON: {e}"),
        })
    }

    fn request(&self, url: &str, body: &impl Serialize, stream: bool) -> reqwest::RequestBuilder {
        let config = &self.config;
        let mut request = config.client.post(url).json(body);
        if let Some(key) = &config.api_key {
            // bearer_auth marks the header sensitive, so reqwest never prints it.
            request = request.bearer_auth(key.expose_secret());
        }
        if let Some(org) = &config.organization {
            request = request.header("OpenAI-Organization", org);
        }
        if let Some(project) = &config.project {
            request = request.header("OpenAI-Project", project);
        }
        if stream {
            request = request.header(ACCEPT, "text/event-stream");
        }
        request
    }
}

fn timeout() -> Error {
    Error::Timeout {
        what: "the OpenAI request".into(),
    }
}
