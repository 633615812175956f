//! A running link-server over its HTTP API (`/v1/...`), replies streamed as SSE.

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use link::{Error, Persona, Result};
use link_wire::{
    ApiKeyList, ConversationBody, ConversationList, ConversationSummary, CreatedApiKey, ErrorBody,
    ErrorDetail, MessageBody, RewindReply, UpdateConversation, UserPersonaBody, UserPersonaReply,
};
use reqwest::header::{ACCEPT, RETRY_AFTER};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::{Backend, ReplyStream, sse};

/// A link-server at `base`, called with a bearer token.
pub struct RemoteBackend {
    client: Client,
    base: String,
    token: String,
}

impl std::fmt::Debug for RemoteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of debug output.
        f.debug_struct("RemoteBackend")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl RemoteBackend {
    /// Connects with `token`; without one, asks a dev-mode server for a token for `user`.
    pub async fn new(base: &str, token: Option<String>, user: &str) -> Result<Self> {
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Config {
                message: format!("HTTP client: {e}"),
            })?;
        let base = base.trim_end_matches('/').to_owned();
        let token = match token.filter(|t| !t.is_empty()) {
            Some(token) => token,
            None => mint_dev_token(&client, &base, user).await?,
        };
        Ok(Self {
            client,
            base,
            token,
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn json<T: for<'de> Deserialize<'de>>(&self, request: RequestBuilder) -> Result<T> {
        let response = checked(request.send().await.map_err(unreachable)?).await?;
        response.json().await.map_err(|e| malformed(&e))
    }

    /// POSTs `body` to `path` asking for SSE, and streams the reply it answers with.
    async fn stream(&self, path: &str, body: &serde_json::Value) -> Result<ReplyStream> {
        let request = self
            .request(reqwest::Method::POST, path)
            .header(ACCEPT, "text/event-stream")
            .json(body);
        let response = checked(request.send().await.map_err(unreachable)?).await?;
        Ok(sse::reply_events(response.bytes_stream()).boxed())
    }
}

async fn mint_dev_token(client: &Client, base: &str, user: &str) -> Result<String> {
    #[derive(Deserialize)]
    struct Minted {
        token: String,
    }
    let request = client
        .post(format!("{base}/v1/auth/token"))
        .json(&json!({ "username": user }));
    let response = request.send().await.map_err(unreachable)?;
    if response.status() == StatusCode::NOT_FOUND {
        return Err(Error::Unauthorized {
            reason: "the server does not issue dev tokens: pass --token or set LINK_TOKEN".into(),
        });
    }
    let minted: Minted = checked(response)
        .await?
        .json()
        .await
        .map_err(|e| malformed(&e))?;
    Ok(minted.token)
}

/// The server could not be reached or the connection broke.
fn unreachable(error: reqwest::Error) -> Error {
    let timeout = error.is_timeout();
    // reqwest's message names the URL, never the Authorization header.
    let message = format!("cannot reach the server: {error}");
    if timeout {
        return Error::Timeout { what: message };
    }
    Error::provider(link_wire::SERVER, message).with_retryable(true)
}

fn malformed(error: &reqwest::Error) -> Error {
    Error::MalformedOutput {
        message: format!("unexpected answer from the server: {error}"),
    }
}

/// The response when it succeeded, else its error mapped back to the engine's meaning.
async fn checked(response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = response.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<ErrorBody>(&text)
        .map(|b| b.error)
        .unwrap_or_else(|_| ErrorDetail {
            code: String::new(),
            message: format!("status {}", status.as_u16()),
        });
    Err(detail.to_error(Some(status.as_u16()), retry_after))
}

fn path_id(id: &str) -> Result<&str> {
    path_segment(id, "malformed conversation id")
}

fn message_path(id: &str, message: &str) -> Result<String> {
    let message = path_segment(message, "malformed message id")?;
    Ok(format!(
        "/v1/conversations/{}/messages/{message}",
        path_id(id)?
    ))
}

/// An id that goes into a URL path: anything that could change the path is refused.
fn path_segment<'a>(id: &'a str, malformed: &'static str) -> Result<&'a str> {
    let id = id.trim();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Error::invalid(malformed));
    }
    Ok(id)
}

/// `/v1/me/persona`.
const ME_PERSONA: &str = "/v1/me/persona";

/// `/v1/me/keys`.
const ME_KEYS: &str = "/v1/me/keys";

#[async_trait]
impl Backend for RemoteBackend {
    async fn extract_persona(&self, request: &str) -> Result<Persona> {
        let request = self
            .request(reqwest::Method::POST, "/v1/personas")
            .json(&json!({ "request": request }));
        self.json(request).await
    }

    async fn create(&self, request: &str) -> Result<ConversationBody> {
        let request = self
            .request(reqwest::Method::POST, "/v1/conversations")
            .json(&json!({ "persona_request": request }));
        self.json(request).await
    }

    async fn import_card(&self, card: Vec<u8>) -> Result<ConversationBody> {
        let request = self
            .request(reqwest::Method::POST, "/v1/conversations/import")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(card);
        self.json(request).await
    }

    async fn list(&self) -> Result<ConversationList> {
        let request = self.request(reqwest::Method::GET, "/v1/conversations");
        self.json(request).await
    }

    async fn get(&self, id: &str) -> Result<ConversationBody> {
        let path = format!("/v1/conversations/{}", path_id(id)?);
        self.json(self.request(reqwest::Method::GET, &path)).await
    }

    async fn avatar(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let path = format!("/v1/conversations/{}/avatar", path_id(id)?);
        let request = self.request(reqwest::Method::GET, &path);
        let response = request.send().await.map_err(unreachable)?;
        // The conversation was just read: a 404 here means it has no avatar.
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let image = checked(response).await?.bytes().await;
        Ok(Some(image.map_err(|e| malformed(&e))?.to_vec()))
    }

    async fn send_stream(&self, id: &str, text: &str) -> Result<ReplyStream> {
        let path = format!("/v1/conversations/{}/messages", path_id(id)?);
        self.stream(&path, &json!({ "content": text })).await
    }

    async fn regenerate_stream(&self, id: &str) -> Result<ReplyStream> {
        let path = format!("/v1/conversations/{}/regenerate", path_id(id)?);
        self.stream(&path, &json!({})).await
    }

    async fn resend_stream(&self, id: &str, message: &str, text: &str) -> Result<ReplyStream> {
        let path = format!("{}/resend", message_path(id, message)?);
        self.stream(&path, &json!({ "content": text })).await
    }

    async fn choose(&self, id: &str, message: &str, index: usize) -> Result<MessageBody> {
        let path = message_path(id, message)?;
        let request = self
            .request(reqwest::Method::PATCH, &path)
            .json(&json!({ "chosen": index }));
        self.json(request).await
    }

    async fn rewind(&self, id: &str, turns: usize) -> Result<usize> {
        let path = format!("/v1/conversations/{}/rewind", path_id(id)?);
        let request = self
            .request(reqwest::Method::POST, &path)
            .json(&json!({ "turns": turns }));
        let reply: RewindReply = self.json(request).await?;
        Ok(reply.removed)
    }

    async fn fork(&self, id: &str) -> Result<ConversationBody> {
        let path = format!("/v1/conversations/{}/fork", path_id(id)?);
        let request = self.request(reqwest::Method::POST, &path).json(&json!({}));
        self.json(request).await
    }

    async fn update(&self, id: &str, change: UpdateConversation) -> Result<ConversationSummary> {
        let path = format!("/v1/conversations/{}", path_id(id)?);
        let request = self.request(reqwest::Method::PATCH, &path).json(&change);
        self.json(request).await
    }

    async fn user_persona(&self) -> Result<Option<UserPersonaBody>> {
        let request = self.request(reqwest::Method::GET, ME_PERSONA);
        let reply: UserPersonaReply = self.json(request).await?;
        Ok(reply.user_persona)
    }

    async fn set_user_persona(
        &self,
        persona: Option<UserPersonaBody>,
    ) -> Result<Option<UserPersonaBody>> {
        let Some(persona) = persona else {
            // DELETE answers 204 without a body.
            let request = self.request(reqwest::Method::DELETE, ME_PERSONA);
            checked(request.send().await.map_err(unreachable)?).await?;
            return Ok(None);
        };
        let request = self
            .request(reqwest::Method::PUT, ME_PERSONA)
            .json(&persona);
        let reply: UserPersonaReply = self.json(request).await?;
        Ok(reply.user_persona)
    }

    async fn create_key(&self, name: &str) -> Result<CreatedApiKey> {
        let request = self.request(reqwest::Method::POST, ME_KEYS);
        self.json(request.json(&json!({ "name": name }))).await
    }

    async fn keys(&self) -> Result<ApiKeyList> {
        self.json(self.request(reqwest::Method::GET, ME_KEYS)).await
    }

    async fn revoke_key(&self, id: &str) -> Result<()> {
        let path = format!("{ME_KEYS}/{}", path_segment(id, "malformed key id")?);
        // DELETE answers 204 without a body.
        let request = self.request(reqwest::Method::DELETE, &path);
        checked(request.send().await.map_err(unreachable)?).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(code: &str) -> ErrorDetail {
        ErrorDetail {
            code: code.into(),
            message: "conversation not found".into(),
        }
    }

    #[test]
    fn api_errors_map_back_to_their_meaning() {
        let missing = detail("not_found").to_error(Some(404), None);
        assert_eq!(
            missing,
            Error::NotFound {
                what: "conversation".into()
            }
        );
        let limited = detail("rate_limited").to_error(Some(429), None);
        assert!(matches!(limited, Error::RateLimited { .. }));
        let upstream = detail("upstream_error").to_error(Some(503), None);
        assert!(matches!(
            upstream,
            Error::Provider {
                retryable: true,
                ..
            }
        ));
    }

    #[test]
    fn ids_cannot_escape_the_path() {
        assert!(path_id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").is_ok());
        assert!(path_id("../auth/token").is_err());
        assert!(path_id("a?b").is_err());
        assert!(path_id("").is_err());
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        assert_eq!(
            message_path(id, id).unwrap(),
            format!("/v1/conversations/{id}/messages/{id}")
        );
        assert!(message_path(id, "../../me/persona").is_err());
        assert!(message_path("..", id).is_err());
    }
}
