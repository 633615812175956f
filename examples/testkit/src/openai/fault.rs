//! The ways the real API fails, one knob each: a test scripts one with [`Fault::answer`], or
//! (when it drives a binary and can only choose what the user says) puts the fault's
//! [`Fault::trigger`] phrase in the message.

use serde_json::Value;

use super::answer::{Answer, completion_of, last_user_text};
use super::reply::Reply;
use super::stream::{Ending, Stream};
use super::wire::{error, insufficient_quota, overloaded, rate_limited};
use super::{REPLY, reply::STALL_LIMIT};

/// One failure of the real API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A stream sends half the reply, then an `error` object, and closes without `[DONE]`
    /// (a whole request gets a 500 `server_error`).
    MidStreamError,
    /// A stream ends after its finish and usage chunks without `data: [DONE]`.
    MissingDone,
    /// A stream sends half the reply and then nothing, the connection held open (a whole
    /// request gets no answer at all).
    Stall,
    /// The content filter stops the reply: `finish_reason: content_filter`, streamed or whole.
    ContentFilter,
    /// 429 `rate_limit_exceeded` with `retry-after-ms` and `retry-after`.
    RateLimited {
        /// The wait asked for, in milliseconds.
        retry_after_ms: u64,
    },
    /// 429 `insufficient_quota`, which no retry cures.
    InsufficientQuota,
    /// 503 overloaded, with `retry-after-ms`.
    Overloaded {
        /// The wait asked for, in milliseconds.
        retry_after_ms: u64,
    },
}

impl Fault {
    /// Every fault, with the waits the trigger phrases use.
    pub const ALL: [Fault; 7] = [
        Fault::MidStreamError,
        Fault::MissingDone,
        Fault::Stall,
        Fault::ContentFilter,
        Fault::RateLimited { retry_after_ms: 20 },
        Fault::InsufficientQuota,
        Fault::Overloaded { retry_after_ms: 10 },
    ];

    /// The phrase that turns this fault on when the last user message contains it.
    pub fn trigger(&self) -> &'static str {
        match self {
            Fault::MidStreamError => "break mid-stream",
            Fault::MissingDone => "forget the done",
            Fault::Stall => "go silent",
            Fault::ContentFilter => "forbidden topic",
            Fault::RateLimited { .. } => "hit the rate limit",
            Fault::InsufficientQuota => "quota",
            Fault::Overloaded { .. } => "overloaded",
        }
    }

    /// The fault whose trigger phrase `text` contains.
    pub fn triggered_by(text: &str) -> Option<Fault> {
        Self::ALL.into_iter().find(|f| text.contains(f.trigger()))
    }

    /// This fault as a scripted answer.
    pub fn answer(self) -> Answer {
        std::sync::Arc::new(move |body| self.reply(body))
    }

    /// The API's answer to `body` under this fault.
    pub fn reply(&self, body: &Value) -> Reply {
        let streaming = body["stream"] == true;
        let mut stream = Stream::of(REPLY);
        match self {
            Fault::MidStreamError if streaming => stream.ending = Ending::ErrorMidway,
            Fault::MidStreamError => {
                return error(
                    500,
                    "server_error",
                    "",
                    "The server had an error while processing your request. Sorry about that!",
                );
            }
            Fault::MissingDone => stream.ending = Ending::WithoutDone,
            Fault::Stall if streaming => stream.ending = Ending::StallMidway,
            Fault::Stall => return completion_of(REPLY, "stop").set_delay(STALL_LIMIT),
            Fault::ContentFilter => {
                // The filter cuts the reply short: what was generated before it stays.
                let kept: String = REPLY.split_inclusive(' ').take(3).collect();
                stream = Stream::of(&kept);
                stream.finish = "content_filter";
                if !streaming {
                    return completion_of(&kept, "content_filter");
                }
            }
            Fault::RateLimited { retry_after_ms } => {
                let model = body["model"].as_str().unwrap_or_default();
                return rate_limited(model, *retry_after_ms);
            }
            Fault::InsufficientQuota => return insufficient_quota(),
            Fault::Overloaded { retry_after_ms } => return overloaded(*retry_after_ms),
        }
        if streaming {
            stream.reply(body)
        } else {
            completion_of(REPLY, "stop")
        }
    }
}

/// The fault the request's last user message asks for.
pub fn requested_fault(body: &Value) -> Option<Fault> {
    Fault::triggered_by(&last_user_text(body))
}
