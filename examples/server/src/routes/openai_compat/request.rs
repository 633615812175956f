//! A chat completion request checked and taken apart: what the engine needs of it, or the
//! error OpenAI's API would give for it.

use link::{ChatMessage, TurnOptions};
use serde_json::{Map, Value};

use super::wire::{ChatCompletionBody, CompletionMessage, MessageContent, OpenAiError, Stop};

/// The parameters this API takes.
const TAKEN: [&str; 11] = [
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "n",
    "user",
];

/// OpenAI's most stop sequences.
const MAX_STOP: usize = 4;

/// A request ready for the engine.
#[derive(Debug)]
pub(super) struct Completion {
    /// The model as the client named it (echoed in the answer).
    pub model: String,
    /// Whether to stream.
    pub stream: bool,
    /// Whether a stream ends with a usage chunk.
    pub include_usage: bool,
    /// Sampling settings and the user's instructions (the `system` messages).
    pub options: TurnOptions,
    /// The `user` and `assistant` messages, oldest first.
    pub history: Vec<ChatMessage>,
}

impl Completion {
    /// Checks `body` as OpenAI's API would, for what Link implements of it.
    pub fn parse(mut body: Map<String, Value>) -> Result<Self, OpenAiError> {
        drop_neutral(&mut body)?;
        let body: ChatCompletionBody = serde_json::from_value(Value::Object(body))
            .map_err(|e| OpenAiError::invalid("body", "invalid_request_error", e.to_string()))?;
        let options = options(&body)?;
        let (instructions, history) = messages(&body.messages)?;
        let options = match instructions {
            Some(text) => options.instructions(text),
            None => options,
        };
        let stream = body.stream.unwrap_or(false);
        let include_usage = body
            .stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false);
        Ok(Self {
            model: body.model,
            stream,
            include_usage,
            options,
            history,
        })
    }

    /// The text of the last message, which must be the user's (the new message of a stored
    /// turn).
    pub fn last_user_message(&self) -> Result<&str, OpenAiError> {
        match self.history.last() {
            Some(last) if last.role == link::Role::User => Ok(&last.content),
            _ => Err(OpenAiError::invalid(
                "messages",
                "invalid_value",
                "The last message must be the user's.",
            )),
        }
    }
}

/// Removes the parameters that ask for nothing (null, or a neutral value of one Link does
/// not implement); refuses any other parameter Link does not take.
fn drop_neutral(body: &mut Map<String, Value>) -> Result<(), OpenAiError> {
    let mut refused = None;
    body.retain(|key, value| {
        if TAKEN.contains(&key.as_str()) {
            return !value.is_null();
        }
        let neutral = match key.as_str() {
            "frequency_penalty" | "presence_penalty" => value.as_f64() == Some(0.0),
            "logit_bias" => value.as_object().is_some_and(Map::is_empty),
            _ => value.is_null(),
        };
        if !neutral && refused.is_none() {
            refused = Some(key.clone());
        }
        false
    });
    match refused {
        Some(key) => Err(OpenAiError::unsupported_parameter(&key)),
        None => Ok(()),
    }
}

fn options(body: &ChatCompletionBody) -> Result<TurnOptions, OpenAiError> {
    let mut options = TurnOptions::default();
    if let Some(n) = body.n.filter(|n| *n != 1) {
        return Err(OpenAiError::unsupported_value(
            "n",
            &format!("must be 1, not {n}: a character gives one reply."),
        ));
    }
    if let Some(tokens) = body.max_completion_tokens.or(body.max_tokens) {
        if tokens == 0 {
            let param = match body.max_completion_tokens {
                Some(_) => "max_completion_tokens",
                None => "max_tokens",
            };
            return Err(OpenAiError::invalid(
                param,
                "invalid_value",
                "It must be at least 1.",
            ));
        }
        options = options.max_tokens(tokens);
    }
    if let Some(t) = body.temperature {
        in_range("temperature", t, 2.0)?;
        options = options.temperature(t);
    }
    if let Some(p) = body.top_p {
        in_range("top_p", p, 1.0)?;
        options = options.top_p(p);
    }
    let stop = match &body.stop {
        None => vec![],
        Some(Stop::One(one)) => vec![one.clone()],
        Some(Stop::Many(many)) => many.clone(),
    };
    if stop.len() > MAX_STOP || stop.iter().any(String::is_empty) {
        return Err(OpenAiError::invalid(
            "stop",
            "invalid_value",
            format!("At most {MAX_STOP} stop sequences, none of them empty."),
        ));
    }
    Ok(options.stop(stop))
}

fn in_range(param: &str, value: f32, max: f32) -> Result<(), OpenAiError> {
    if (0.0..=max).contains(&value) {
        return Ok(());
    }
    Err(OpenAiError::invalid(
        param,
        "invalid_value",
        format!("It must be between 0 and {max}."),
    ))
}

/// The `system`/`developer` messages joined (the user's instructions) and the rest as turns.
fn messages(
    messages: &[CompletionMessage],
) -> Result<(Option<String>, Vec<ChatMessage>), OpenAiError> {
    if messages.is_empty() {
        return Err(OpenAiError::invalid(
            "messages",
            "invalid_value",
            "At least one message is needed.",
        ));
    }
    let mut instructions = Vec::new();
    let mut turns = Vec::new();
    for message in messages {
        let text = text_of(&message.content)?;
        match message.role.as_str() {
            "system" | "developer" => instructions.push(text),
            "user" => turns.push(ChatMessage::user(text)),
            "assistant" => turns.push(ChatMessage::assistant(text)),
            other => {
                return Err(OpenAiError::unsupported_value(
                    "messages",
                    &format!(
                        "role '{other}' is not supported: only system, developer, user and assistant."
                    ),
                ));
            }
        }
    }
    let instructions = (!instructions.is_empty()).then(|| instructions.join("\n\n"));
    Ok((instructions, turns))
}

fn text_of(content: &MessageContent) -> Result<String, OpenAiError> {
    match content {
        MessageContent::Text(text) => Ok(text.clone()),
        MessageContent::Parts(parts) => {
            let mut text = Vec::new();
            for part in parts {
                match (part.kind.as_str(), &part.text) {
                    ("text", Some(t)) => text.push(t.as_str()),
                    _ => {
                        return Err(OpenAiError::unsupported_value(
                            "messages",
                            &format!(
                                "content parts of type '{}' are not supported: only text.",
                                part.kind
                            ),
                        ));
                    }
                }
            }
            Ok(text.join("\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<Completion, OpenAiError> {
        Completion::parse(body.as_object().unwrap().clone())
    }

    #[test]
    fn a_full_request_is_taken_apart() {
        let c = parse(json!({
            "model": "link/x", "stream": true, "stream_options": {"include_usage": true},
            "max_tokens": 500, "max_completion_tokens": 50, "temperature": 0.3, "top_p": 0.9,
            "stop": "END", "n": 1, "user": "u1", "frequency_penalty": 0, "seed": null,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": "How are you?"}
            ]
        }))
        .unwrap();
        assert!(c.stream && c.include_usage);
        assert_eq!(c.options.params().max_tokens, Some(50));
        assert_eq!(c.options.params().stop, ["END"]);
        assert_eq!(c.options.user_instructions(), Some("Be brief."));
        assert_eq!(c.history.len(), 3);
        assert_eq!(c.last_user_message().unwrap(), "How are you?");
    }

    #[test]
    fn what_link_does_not_do_is_refused_as_openai_does() {
        let base = || json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}]});
        let refused = |extra: Value| {
            let mut body = base();
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let e = parse(body).unwrap_err();
            (e.code.unwrap(), e.param.unwrap())
        };
        let tools = refused(json!({"tools": []}));
        assert_eq!(tools, ("unsupported_parameter".into(), "tools".into()));
        let penalty = refused(json!({"presence_penalty": 1.5}));
        assert_eq!(penalty.1, "presence_penalty");
        assert_eq!(refused(json!({"n": 2})).0, "unsupported_value");
        assert_eq!(refused(json!({"temperature": 3})).1, "temperature");
        assert_eq!(
            refused(json!({"stop": ["a", "b", "c", "d", "e"]})).1,
            "stop"
        );
        let tool_role = json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]});
        assert_eq!(parse(tool_role).unwrap_err().param.unwrap(), "messages");
        let image = json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]});
        assert!(parse(image).is_err());
        let assistant_last =
            parse(json!({"model": "m", "messages": [{"role": "assistant", "content": "x"}]}))
                .unwrap();
        assert!(assistant_last.last_user_message().is_err());
    }
}
