//! A mock of OpenAI's Chat Completions API on 127.0.0.1, as strict as the real one, for
//! every test that talks to OpenAI: link-openai's adapter tests, the server and CLI tests,
//! and the benches' upstream.
//!
//! - Every request is checked first ([`check`]): the bearer key (a wrong one gets the 401
//!   with the key masked, as OpenAI sends it), the model, the messages' shape, the sampling
//!   parameters, the strict `response_format` ([`strict`]), `stream_options` only with
//!   `stream`. A refusal has OpenAI's status and error body.
//! - Then it is recorded and answered by the next scripted [`Answer`]; the default,
//!   [`characters`], gives a persona for a structured-output request and a chat reply
//!   otherwise, streamed when asked (with a keep-alive comment, the usage chunk only with
//!   `include_usage`, then `[DONE]`).
//! - Each way the real API fails is a [`Fault`]: mid-stream error, missing `[DONE]`, stall,
//!   content filter, 429 with `retry-after(-ms)`, insufficient quota, overload. Script one,
//!   or put its trigger phrase in the user's message.
//! - `POST /v1/moderations` answers as OpenAI's moderation endpoint ([`moderation`]).

pub mod answer;
pub mod check;
pub mod fault;
pub mod moderation;
pub mod reply;
pub mod server;
pub mod stream;
pub mod strict;
pub mod wire;

pub use answer::{
    Answer, PROMPT_TOKENS, characters, chat, completion_of, completion_tokens, fixed,
    last_user_text, persona_for,
};
pub use check::Policy;
pub use fault::Fault;
pub use reply::{Piece, Reply};
pub use server::{MockOpenAi, Recorded, Setup, fast_retries};
pub use stream::{Ending, Stream};
pub use strict::{response_format_violations, strict_schema_violations};
pub use wire::*;

/// The key the mock accepts unless set up otherwise.
pub const KEY: &str = "sk-test-abcdefghijklmnop0123456789";
/// The model the client configurations use.
pub const MODEL: &str = "gpt-4o-mini";
/// The models that exist on the mock unless set up otherwise.
pub const KNOWN_MODELS: &[&str] = &["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1-nano"];

/// The reply the default answer gives to an ordinary message.
pub const REPLY: &str = "Elementary, my dear friend. The clues were there all along.";

/// The reply streamed for a message containing "gradually": markdown, and text that would be
/// markup if the page injected it as HTML.
pub const GRADUAL_REPLY: &str = "Let me **think** about <img src=x onerror=alert(1)> that, \
    my friend. One by one the *clues* arrange themselves: the mud, the ash, the watch, \
    the dog that did nothing in the night. It is all perfectly `elementary` once seen.";

/// The old name of the mock in link-openai's tests.
pub type FakeOpenAi = MockOpenAi;
