//! Reading a streamed Chat Completion (server-sent events) as Link [`ChatEvent`]s.
//!
//! The SSE framing (lines, `data:` fields, `:` comments, blank-line dispatch) is parsed by the
//! `eventsource-stream` crate; this module only interprets each event's data: a chunk's
//! `choices[].delta.content` becomes [`ChatEvent::Delta`], the `finish_reason` and the final
//! usage chunk are remembered, and `data: [DONE]` ends the stream with one
//! [`ChatEvent::Done`]. The usage chunk comes *after* the finish chunk, which is why the done
//! event waits for `[DONE]`.
//!
//! Failures are mid-stream errors, after which the stream ends: an `error` object, data that
//! is not JSON, a broken connection, a silence longer than the idle timeout, and a body that
//! ends without `[DONE]` (the reply may be cut short, so it must not look complete).

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::{EventStreamError, Eventsource};
use futures::{Stream, StreamExt};
use link_core::{ChatEvent, ChatStream, Error, Result, Usage};

use crate::error::{ErrorMapper, PROVIDER};
use crate::wire::{self, Chunk};

type Events = Pin<
    Box<
        dyn Stream<
                Item = std::result::Result<
                    eventsource_stream::Event,
                    EventStreamError<reqwest::Error>,
                >,
            > + Send,
    >,
>;

/// The events of a successful streaming response. Dropping the stream drops the connection.
pub(crate) fn chat_stream(
    response: reqwest::Response,
    errors: ErrorMapper,
    idle: Duration,
) -> ChatStream {
    let reader = Reader {
        events: Box::pin(without_bom(response.bytes_stream()).eventsource()),
        decoder: Decoder::new(errors.clone()),
        errors,
        idle,
        pending: VecDeque::new(),
        finished: false,
    };
    futures::stream::unfold(reader, |mut reader| async move {
        let item = reader.next().await?;
        Some((item, reader))
    })
    .boxed()
}

/// The UTF-8 byte order mark, which the SSE standard says a parser skips at the start.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `body` without a byte order mark at its start (even one split across chunks).
///
/// `eventsource-stream` 0.2.3 skips the mark by slicing one byte off a three-byte character,
/// which panics; a body that starts with one (found by the fuzz tests) must be an ordinary
/// stream instead, so the mark never reaches the parser.
fn without_bom<E>(
    body: impl Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
) -> impl Stream<Item = std::result::Result<Bytes, E>> + Send {
    // The state: the body, and the bytes seen while the start could still be a mark.
    futures::stream::unfold(
        (body, Some(Vec::new())),
        |(mut body, mut head)| async move {
            let Some(mut seen) = head.take() else {
                let item = body.next().await?;
                return Some((item, (body, None)));
            };
            loop {
                match body.next().await {
                    Some(Ok(chunk)) => {
                        seen.extend_from_slice(&chunk);
                        if seen.len() < BOM.len() && BOM.starts_with(&seen) {
                            continue;
                        }
                        let rest = seen.strip_prefix(BOM).unwrap_or(&seen);
                        return Some((Ok(Bytes::copy_from_slice(rest)), (body, None)));
                    }
                    Some(Err(error)) => return Some((Err(error), (body, None))),
                    None if seen.is_empty() => return None,
                    None => return Some((Ok(Bytes::from(seen)), (body, None))),
                }
            }
        },
    )
}

struct Reader {
    events: Events,
    decoder: Decoder,
    errors: ErrorMapper,
    idle: Duration,
    pending: VecDeque<ChatEvent>,
    finished: bool,
}

impl Reader {
    async fn next(&mut self) -> Option<Result<ChatEvent>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.finished {
                return None;
            }
            let step = match tokio::time::timeout(self.idle, self.events.next()).await {
                Err(_) => Err(Error::Timeout {
                    what: format!(
                        "the OpenAI stream (silent for {} s)",
                        self.idle.as_secs_f64()
                    ),
                }),
                Ok(None) => Err(cut_off()),
                Ok(Some(Err(err))) => Err(self.sse_error(err)),
                Ok(Some(Ok(event))) => self.decoder.on_data(&event.data),
            };
            match step {
                Ok(events) => {
                    self.pending.extend(events);
                    self.finished = self.decoder.done;
                }
                Err(err) => {
                    self.finished = true;
                    return Some(Err(err));
                }
            }
        }
    }

    fn sse_error(&self, err: EventStreamError<reqwest::Error>) -> Error {
        match err {
            EventStreamError::Transport(err) => match self.errors.transport(&err) {
                Error::Provider { message, .. } => broken(format!("the stream broke: {message}")),
                other => other,
            },
            EventStreamError::Utf8(err) => Error::MalformedOutput {
                message: format!("the stream is not UTF-8: {err}"),
            },
            EventStreamError::Parser(err) => Error::MalformedOutput {
                message: format!("the stream is not valid server-sent events: {err}"),
            },
        }
    }
}

/// Interprets the data of each event; knows nothing of transport.
#[derive(Debug)]
pub(crate) struct Decoder {
    errors: ErrorMapper,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    /// `[DONE]` was seen.
    pub done: bool,
}

impl Decoder {
    pub fn new(errors: ErrorMapper) -> Self {
        Self {
            errors,
            finish_reason: None,
            usage: None,
            done: false,
        }
    }

    /// The Link events for one SSE event's data.
    pub fn on_data(&mut self, data: &str) -> Result<Vec<ChatEvent>> {
        let data = data.trim();
        if data.is_empty() {
            return Ok(Vec::new());
        }
        if data == "[DONE]" {
            self.done = true;
            return Ok(vec![ChatEvent::Done {
                stop_reason: wire::stop_reason(self.finish_reason.as_deref()),
                usage: self.usage,
            }]);
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| Error::MalformedOutput {
            message: format!("a stream chunk is not valid JSON: {e}"),
        })?;
        if let Some(error) = &chunk.error {
            return Err(self.errors.mid_stream(error));
        }
        if let Some(usage) = chunk.usage.and_then(wire::WireUsage::to_usage) {
            self.usage = Some(usage);
        }
        let mut events = Vec::new();
        for choice in chunk.choices {
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
            // A refusal is the model's answer in its own words: in a chat it is shown as text.
            let delta = choice.delta.unwrap_or_default();
            for text in [delta.content, delta.refusal].into_iter().flatten() {
                if !text.is_empty() {
                    events.push(ChatEvent::Delta { text });
                }
            }
        }
        Ok(events)
    }
}

fn cut_off() -> Error {
    broken("the stream ended before [DONE]; the reply may be incomplete".into())
}

fn broken(message: String) -> Error {
    Error::provider(PROVIDER, message).with_retryable(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use link_core::StopReason;

    fn decoder() -> Decoder {
        Decoder::new(ErrorMapper::new(None))
    }

    #[test]
    fn deltas_finish_and_usage_make_one_done() {
        let mut d = decoder();
        let role = d
            .on_data(r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#)
            .unwrap();
        assert!(role.is_empty(), "empty content is no delta");
        let hi = d
            .on_data(r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#)
            .unwrap();
        assert_eq!(hi, vec![ChatEvent::Delta { text: "Hi".into() }]);
        assert!(
            d.on_data(r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#)
                .unwrap()
                .is_empty()
        );
        assert!(d.on_data(r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#).unwrap().is_empty());
        let done = d.on_data("[DONE]").unwrap();
        assert_eq!(
            done,
            vec![ChatEvent::Done {
                stop_reason: StopReason::MaxTokens,
                usage: Some(Usage::new(5, 1))
            }]
        );
        assert!(d.done);
    }

    #[test]
    fn missing_usage_is_none_and_unknown_reasons_are_kept() {
        let mut d = decoder();
        d.on_data(
            r#"{"choices":[{"delta":{"content":"x"},"finish_reason":"eos_token","new_field":{}}]}"#,
        )
        .unwrap();
        let done = d.on_data("[DONE]").unwrap();
        assert_eq!(
            done,
            vec![ChatEvent::Done {
                stop_reason: StopReason::Other("eos_token".into()),
                usage: None
            }]
        );
    }

    #[test]
    fn error_objects_and_junk_fail() {
        let mut d = decoder();
        let err = d
            .on_data(r#"{"error":{"message":"overloaded","type":"server_error"}}"#)
            .unwrap_err();
        assert!(
            matches!(err, Error::Provider { ref message, retryable: true, .. } if message == "overloaded")
        );
        assert!(matches!(
            d.on_data("{not json"),
            Err(Error::MalformedOutput { .. })
        ));
    }
}
