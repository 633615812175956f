//! A streamed turn as Server-Sent Events: `delta` events, then `done` or `error` (the shapes
//! and names of `link_wire::events`).

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use link::{TurnEvent, TurnStream};
use link_wire::events::{DELTA, DONE, ERROR};
use link_wire::{DeltaEvent, DoneEvent, ErrorDetail};
use serde::Serialize;

/// The SSE response for a turn. When the client goes away, the stream is dropped, which
/// cancels the model call; the engine stores the partial reply and audits it.
pub fn response(turn: TurnStream) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = turn.map(|item| Ok(to_event(item)));
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn to_event(item: link::Result<TurnEvent>) -> Event {
    match item {
        Ok(TurnEvent::Delta { text }) => json_event(DELTA, &DeltaEvent { text }),
        Ok(TurnEvent::Done {
            message,
            stop_reason,
            usage,
        }) => json_event(DONE, &DoneEvent::new(&message, &stop_reason, usage)),
        Ok(other) => {
            tracing::warn!(?other, "unknown turn event not sent");
            Event::default().comment("unknown event")
        }
        Err(error) => {
            if error.http_status() >= 500 {
                tracing::error!(%error, code = error.code(), "stream failed");
            }
            json_event(ERROR, &ErrorDetail::from_error(&error))
        }
    }
}

fn json_event(name: &str, data: &impl Serialize) -> Event {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".to_owned());
    Event::default().event(name).data(data)
}
