//! `application/vnd.amazon.eventstream` bodies: frames encoded by the SDK's own codec, sent
//! whole, split across reads, or cut off in the middle of a frame.

use std::time::Duration;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::body::Bytes;
use axum::response::Response;
use serde_json::Value;

use crate::openai::{Piece, Reply};

/// How the frames of a stream reach the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// One write per frame.
    #[default]
    Whole,
    /// Every frame split into writes of a few bytes with a pause between them, so the client
    /// reads most frames in several pieces.
    Split,
    /// The frames but the last, then the first half of the last, then the connection closes.
    CutMidFrame,
}

/// One event-stream frame: `kind` is `event` or `exception`, `name` its type.
pub fn frame(kind: &str, name: &str, payload: &Value) -> Bytes {
    let type_header = if kind == "event" {
        ":event-type"
    } else {
        ":exception-type"
    };
    let message = Message::new(serde_json::to_vec(payload).unwrap())
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            type_header,
            HeaderValue::String(name.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut buffer = Vec::new();
    write_message_to(&message, &mut buffer).unwrap();
    Bytes::from(buffer)
}

/// The bytes of each split write.
const SPLIT: usize = 7;

/// Frames as the pieces of a body: `first` before the first frame, `gap` between frames.
pub fn pieces(frames: Vec<Bytes>, framing: Framing, first: Duration, gap: Duration) -> Vec<Piece> {
    let count = frames.len();
    let mut out = vec![Piece::Wait(first)];
    for (i, frame) in frames.into_iter().enumerate() {
        if i > 0 {
            out.push(Piece::Wait(gap));
        }
        match framing {
            Framing::Whole => out.push(Piece::Data(frame)),
            Framing::Split => {
                for (j, part) in frame.chunks(SPLIT).enumerate() {
                    if j > 0 {
                        out.push(Piece::Wait(Duration::from_millis(1)));
                    }
                    out.push(Piece::Data(Bytes::copy_from_slice(part)));
                }
            }
            Framing::CutMidFrame if i + 1 == count => {
                out.push(Piece::Data(frame.slice(..frame.len() / 2)));
            }
            Framing::CutMidFrame => out.push(Piece::Data(frame)),
        }
    }
    out
}

/// A 200 event-stream response of `pieces`.
pub async fn event_stream(pieces: Vec<Piece>) -> Response {
    Reply::new(200)
        .set_body_pieces(pieces, "application/vnd.amazon.eventstream")
        .into_response()
        .await
}
