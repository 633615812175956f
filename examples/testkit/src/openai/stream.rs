//! Streamed replies as OpenAI sends them: a keep-alive comment, a role chunk, one chunk per
//! piece of text, the finish chunk, the usage chunk only when `stream_options.include_usage`
//! asked for it, and `data: [DONE]`; or one of the ways a real stream breaks.

use std::time::Duration;

use axum::body::Bytes;
use serde_json::{Value, json};

use super::answer::{PROMPT_TOKENS, completion_tokens};
use super::reply::{Piece, Reply};
use super::wire::{KEEP_ALIVE, chunk, done, event, sse_pieces, stream_error, usage_chunk};

/// How a stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Finish chunk, usage (if asked for), `[DONE]`.
    Complete,
    /// Finish chunk and usage, but the connection closes without `[DONE]`.
    WithoutDone,
    /// Half the text, then an `error` object, then the connection closes.
    ErrorMidway,
    /// Half the text, then silence with the connection held open.
    StallMidway,
}

/// A streamed reply to the request `body`.
#[derive(Debug, Clone)]
pub struct Stream {
    /// The text, a chunk a piece.
    pub pieces: Vec<String>,
    /// The pause before each piece after the first.
    pub gap: Duration,
    /// The pause before the first byte of the body.
    pub first: Duration,
    /// The finish reason of the finish chunk.
    pub finish: &'static str,
    /// How the stream ends.
    pub ending: Ending,
}

impl Stream {
    /// `text` cut after each space, at once, ending normally with `stop`.
    pub fn of(text: &str) -> Self {
        Self {
            pieces: text.split_inclusive(' ').map(str::to_owned).collect(),
            gap: Duration::ZERO,
            first: Duration::ZERO,
            finish: "stop",
            ending: Ending::Complete,
        }
    }

    /// The SSE answer to `request`.
    pub fn reply(self, request: &Value) -> Reply {
        let include_usage = request["stream_options"]["include_usage"] == true;
        let mut out = vec![
            Piece::Wait(self.first),
            Piece::Data(Bytes::from_static(KEEP_ALIVE.as_bytes())),
            Piece::Data(event(&chunk(
                json!({"role": "assistant", "content": ""}),
                None,
            ))),
        ];
        let cut = match self.ending {
            Ending::ErrorMidway | Ending::StallMidway => self.pieces.len().div_ceil(2),
            _ => self.pieces.len(),
        };
        for (i, piece) in self.pieces.iter().take(cut).enumerate() {
            if i > 0 {
                out.push(Piece::Wait(self.gap));
            }
            out.push(Piece::Data(event(&chunk(json!({"content": piece}), None))));
        }
        match self.ending {
            Ending::ErrorMidway => out.push(Piece::Data(event(&stream_error()))),
            Ending::StallMidway => out.push(Piece::Stall),
            Ending::Complete | Ending::WithoutDone => {
                out.push(Piece::Data(event(&chunk(json!({}), Some(self.finish)))));
                if include_usage {
                    let output = completion_tokens(&self.pieces.concat());
                    let usage = usage_chunk(PROMPT_TOKENS, output);
                    out.push(Piece::Data(event(&usage)));
                }
                if self.ending == Ending::Complete {
                    out.push(Piece::Data(done()));
                }
            }
        }
        sse_pieces(out)
    }
}
