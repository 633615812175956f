//! link-server's streamed reply: SSE events `delta` (`{"text"}`), then `done`
//! (`{"stop_reason", "usage", "message_id", "message"}`, the stored reply with its versions)
//! or `error` (`{"code", "message"}`).

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use link::{Error, Result};
use link_wire::events::{DELTA, DONE, ERROR};
use link_wire::{DeltaEvent, DoneEvent, ErrorDetail};

use super::ReplyEvent;

/// The reply events in an SSE body; the stream ends after `done` or the first error.
pub fn reply_events<E: std::fmt::Display + Send + 'static>(
    body: impl Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
) -> impl Stream<Item = Result<ReplyEvent>> + Send + 'static {
    let mut finished = false;
    body.eventsource()
        .filter_map(|event| async move {
            match event {
                Ok(event) => parse(&event.event, &event.data).transpose(),
                Err(error) => Some(Err(broken(&error.to_string()))),
            }
        })
        .take_while(move |item| {
            let go = !finished;
            finished = !matches!(item, Ok(ReplyEvent::Delta(_)));
            futures::future::ready(go)
        })
}

/// One event; `None` for events that carry nothing to show (comments, unknown names).
fn parse(name: &str, data: &str) -> Result<Option<ReplyEvent>> {
    let bad = |e: serde_json::Error| Error::MalformedOutput {
        message: format!("bad {name} event from the server: {e}"),
    };
    match name {
        DELTA => {
            let delta: DeltaEvent = serde_json::from_str(data).map_err(bad)?;
            Ok(Some(ReplyEvent::Delta(delta.text)))
        }
        DONE => {
            let done: DoneEvent = serde_json::from_str(data).map_err(bad)?;
            Ok(Some(ReplyEvent::Done(done)))
        }
        ERROR => {
            let detail: ErrorDetail = serde_json::from_str(data).map_err(bad)?;
            Err(detail.to_error(None, None))
        }
        _ => Ok(None),
    }
}

fn broken(message: &str) -> Error {
    Error::provider(
        link_wire::SERVER,
        format!("the reply stream broke: {message}"),
    )
    .with_retryable(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn events(body: &'static str) -> Vec<Result<ReplyEvent>> {
        // Split mid-event, as a network would.
        let chunks: Vec<std::result::Result<Bytes, std::io::Error>> = body
            .as_bytes()
            .chunks(7)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        reply_events(futures::stream::iter(chunks)).collect().await
    }

    #[tokio::test]
    async fn deltas_then_done() {
        let got = events(
            "event: delta\ndata: {\"text\":\"Hel\"}\n\n: keep-alive\n\nevent: delta\ndata: {\"text\":\"lo\"}\n\n\
             event: done\ndata: {\"stop_reason\":\"end_turn\",\"usage\":null,\"message_id\":\"m1\",\
             \"message\":{\"id\":\"m1\",\"role\":\"assistant\",\"content\":\"Hello\",\
             \"created_at\":\"2025-01-01T00:00:00Z\",\"alternatives\":[\"Hi\",\"Hello\"],\"chosen\":1}}\n\n",
        )
        .await;
        assert_eq!(got.len(), 3);
        assert!(matches!(&got[0], Ok(ReplyEvent::Delta(t)) if t == "Hel"));
        assert!(matches!(&got[1], Ok(ReplyEvent::Delta(t)) if t == "lo"));
        let Ok(ReplyEvent::Done(done)) = &got[2] else {
            panic!("not done: {:?}", got[2])
        };
        assert_eq!(done.message_id, "m1");
        let message = done.message.as_ref().unwrap();
        assert_eq!(message.alternatives, ["Hi", "Hello"]);
        assert_eq!(message.chosen, 1);
    }

    #[tokio::test]
    async fn a_done_event_from_an_older_server_has_no_message() {
        let got = events(
            "event: done\ndata: {\"stop_reason\":\"end_turn\",\"usage\":null,\"message_id\":\"m1\"}\n\n",
        )
        .await;
        let Ok(ReplyEvent::Done(done)) = &got[0] else {
            panic!("not done: {got:?}")
        };
        assert_eq!(done.message_id, "m1");
        assert!(done.message.is_none());
    }

    #[tokio::test]
    async fn an_error_event_ends_the_stream_with_its_meaning() {
        let got = events(
            "event: delta\ndata: {\"text\":\"Hi\"}\n\n\
             event: error\ndata: {\"code\":\"guardrail_blocked\",\"message\":\"no\"}\n\n\
             event: delta\ndata: {\"text\":\"after\"}\n\n",
        )
        .await;
        assert_eq!(got.len(), 2);
        assert!(matches!(got[1], Err(Error::GuardrailBlocked { .. })));
    }

    #[tokio::test]
    async fn malformed_data_is_an_error() {
        let got = events("event: delta\ndata: not json\n\n").await;
        assert!(matches!(got[0], Err(Error::MalformedOutput { .. })));
    }
}
