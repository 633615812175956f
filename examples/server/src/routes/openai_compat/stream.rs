//! A streamed turn as OpenAI's Server-Sent Events: `chat.completion.chunk` objects (the role
//! first, then the text, then the finish reason), with `stream_options.include_usage` a last
//! chunk with no choices and the usage, then `data: [DONE]`. A failure mid-way is one
//! `data: {"error": {...}}` event, which the SDKs raise as an `APIError`, and no `[DONE]`.

use std::convert::Infallible;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, stream};
use link::{TurnEvent, TurnStream};
use serde_json::{Value, json};

use super::wire::{CompletionUsage, OpenAiError, OpenAiErrorBody, finish_reason};

/// What every chunk of one reply repeats.
#[derive(Debug, Clone)]
pub(super) struct Chunks {
    /// `chatcmpl-…`, the same in every chunk.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// The model as the request named it.
    pub model: String,
    /// Whether the client asked for the usage chunk.
    pub include_usage: bool,
}

impl Chunks {
    /// The SSE response for `turn`. Dropping it (the client went away) cancels the turn as
    /// the engine's streams do.
    pub fn response(self, turn: TurnStream) -> Response {
        let opening = self.chunk(json!({"role": "assistant", "content": ""}), None);
        let events = stream::once(async move { opening })
            .chain(turn.flat_map(move |item| stream::iter(self.events(item))))
            .map(Ok::<_, Infallible>);
        Sse::new(events)
            .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
            .into_response()
    }

    fn events(&self, item: link::Result<TurnEvent>) -> Vec<Event> {
        match item {
            Ok(TurnEvent::Delta { text }) => vec![self.chunk(json!({"content": text}), None)],
            Ok(TurnEvent::Done {
                stop_reason, usage, ..
            }) => {
                let mut events = vec![self.chunk(json!({}), Some(finish_reason(&stop_reason)))];
                if let Some(usage) = usage.filter(|_| self.include_usage) {
                    events.push(self.usage_chunk(CompletionUsage::from(usage)));
                }
                events.push(Event::default().data("[DONE]"));
                events
            }
            Ok(other) => {
                tracing::warn!(?other, "unknown turn event not sent");
                vec![]
            }
            Err(error) => {
                if error.http_status() >= 500 {
                    tracing::error!(%error, code = error.code(), "stream failed");
                }
                let status = StatusCode::from_u16(error.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let detail = link_wire::ErrorDetail::from_error(&error);
                let error = OpenAiError::from_link(status, &detail.code, &detail.message);
                vec![data(&OpenAiErrorBody { error })]
            }
        }
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> Event {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if self.include_usage {
            chunk["usage"] = Value::Null;
        }
        data(&chunk)
    }

    fn usage_chunk(&self, usage: CompletionUsage) -> Event {
        data(&json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage,
        }))
    }
}

fn data(value: &impl serde::Serialize) -> Event {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    Event::default().data(text)
}
