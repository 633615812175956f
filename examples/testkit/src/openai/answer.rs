//! Scripted answers: what the mock says to a request that passed OpenAI's checks. A test
//! gives a list of them (the last one repeats); [`characters`] is the default, a model that
//! plays along with whatever Link asks.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::fault::requested_fault;
use super::reply::Reply;
use super::stream::Stream;
use super::wire::{chunk, completion, sse, usage_chunk};
use super::{GRADUAL_REPLY, REPLY};

/// One scripted answer, given the request body.
pub type Answer = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

/// The same response whatever the request.
pub fn fixed(reply: Reply) -> Answer {
    Arc::new(move |_| reply.clone())
}

/// A chat that says `reply`, streamed in word-sized deltas when the request streams (usage
/// 12 + 5 when asked for), whole otherwise (usage 50 + 20).
pub fn chat(reply: &'static str) -> Answer {
    Arc::new(move |body| {
        if body["stream"] != true {
            return completion(
                json!({"role": "assistant", "content": reply, "refusal": null}),
                "stop",
            );
        }
        let mut chunks: Vec<Value> = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
        chunks.extend(
            reply
                .split_inclusive(' ')
                .map(|w| chunk(json!({"content": w}), None)),
        );
        chunks.push(chunk(json!({}), Some("stop")));
        if body["stream_options"]["include_usage"] == true {
            chunks.push(usage_chunk(12, 5));
        }
        sse(&chunks, true)
    })
}

/// The default answer: a fault when the last user message holds its trigger phrase
/// ([`Fault::trigger`](super::Fault::trigger)); else a persona named after the request for a
/// structured-output request; else [`REPLY`] (or, for a message containing "gradually",
/// [`GRADUAL_REPLY`] a word every 60 ms; for "slowly", 200 words one every 50 ms), streamed
/// when the request streams.
pub fn characters() -> Answer {
    Arc::new(|body| {
        if let Some(fault) = requested_fault(body) {
            return fault.reply(body);
        }
        let text = last_user_text(body);
        let (reply, gap) = if body.get("response_format").is_some() {
            (persona_for(&text).to_string(), Duration::ZERO)
        } else if text.contains("slowly") {
            let words: String = (0..200).map(|i| format!("word{i} ")).collect();
            (words, Duration::from_millis(50))
        } else if text.contains("gradually") {
            (GRADUAL_REPLY.to_owned(), Duration::from_millis(60))
        } else {
            (REPLY.to_owned(), Duration::ZERO)
        };
        if body["stream"] == true {
            let mut stream = Stream::of(&reply);
            stream.gap = gap;
            stream.reply(body)
        } else {
            completion_of(&reply, "stop")
        }
    })
}

/// The text of the request's last user message.
pub fn last_user_text(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Tokens the mock bills a prompt, whatever its length.
pub const PROMPT_TOKENS: u64 = 42;

/// A token a word, plus the end-of-turn token.
pub fn completion_tokens(text: &str) -> u64 {
    text.split_whitespace().count() as u64 + 1
}

/// A whole completion saying `text`, billed [`PROMPT_TOKENS`] and [`completion_tokens`].
pub fn completion_of(text: &str, finish_reason: &str) -> Reply {
    let output = completion_tokens(text);
    Reply::new(200).set_body_json(json!({
        "id": "chatcmpl-mock", "object": "chat.completion", "created": 1_700_000_000,
        "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_mock",
        "choices": [{"index": 0, "finish_reason": finish_reason, "logprobs": null,
            "message": {"role": "assistant", "content": text, "refusal": null}}],
        "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": output,
                  "total_tokens": PROMPT_TOKENS + output}
    }))
}

/// The persona the default answer makes of a request: named after it, fictional.
pub fn persona_for(request: &str) -> Value {
    let name = request.trim();
    json!({
        "name": name, "kind": "fictional", "living": null,
        "description": format!("{name}, as the stories tell it."),
        "personality": "Sharp and curious.", "speaking_style": "Precise, a little dry.",
        "setting": "Victorian London", "knowledge": "Crime, chemistry, violin.",
        "must_not_know": "Anything after 1914.",
        "greeting": format!("Good evening. I am {name}. What brings you here?"),
        "example_lines": ["You see, but you do not observe."],
        "safety_notes": null
    })
}
