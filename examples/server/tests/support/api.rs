//! The calls to the server's HTTP API that the tests make again and again: create a
//! conversation, read it back, send a message for a whole or a streamed reply.

use std::time::{Duration, Instant};

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use super::Server;

impl Server {
    /// Creates a conversation with the character `request` asks for; the answer's body.
    pub async fn create(&self, token: &str, request: &str) -> Value {
        let response = Client::new()
            .post(format!("{}/v1/conversations", self.url))
            .bearer_auth(token)
            .json(&json!({"persona_request": request}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// Creates a conversation with the character `request` asks for; its id.
    pub async fn conversation(&self, token: &str, request: &str) -> String {
        self.create(token, request).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Sends `content` to conversation `id` for a whole reply; the answer's body.
    pub async fn send(&self, token: &str, id: &str, content: &str) -> Value {
        let response = Client::new()
            .post(format!("{}/v1/conversations/{id}/messages", self.url))
            .bearer_auth(token)
            .json(&json!({"content": content}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// The conversation `id` with all its messages.
    pub async fn read(&self, token: &str, id: &str) -> Value {
        let response = Client::new()
            .get(format!("{}/v1/conversations/{id}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// The stored messages of `id` once there are `count` of them; the bound is only there
    /// to fail a test that waits for something that never happens.
    pub async fn wait_for_messages(&self, token: &str, id: &str, count: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let messages = self.read(token, id).await["messages"]
                .as_array()
                .unwrap()
                .clone();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never {count} messages stored: {messages:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `content` to conversation `id` as request `request_id`, asking for Server-Sent
    /// Events; the response with its body still to read.
    pub async fn send_streamed(
        &self,
        token: &str,
        id: &str,
        content: &str,
        request_id: &str,
    ) -> Response {
        Client::new()
            .post(format!("{}/v1/conversations/{id}/messages", self.url))
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .header("x-request-id", request_id)
            .json(&json!({"content": content}))
            .send()
            .await
            .unwrap()
    }

    /// `method path` with `token` and an optional JSON body: the status and the JSON body
    /// (null when there is none).
    pub async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Client::new()
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Waits until conversation `id`'s memory has a summary covering some message (the
    /// summary is written after a reply, off its path); the memory. The 30 seconds it waits at
    /// most only turn a hang into a failure.
    pub async fn summarised_memory(&self, token: &str, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let memory = self.read(token, id).await["memory"].clone();
            if memory["covered_through"].is_string() {
                return memory;
            }
            assert!(Instant::now() < deadline, "no summary landed: {memory}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
