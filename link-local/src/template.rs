//! Turning a system prompt and turns into the model's own prompt format.
//!
//! The GGUF file carries the chat template the model was trained with; llama.cpp applies it.
//! A model without one (or with a template llama.cpp does not know) gets ChatML, the most
//! common format among small instruct models.

use link_core::{ChatMessage, Role};
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};

/// The prompt for `messages` after `system`, ending where the assistant's reply begins.
pub(crate) fn render(model: &LlamaModel, system: &str, messages: &[ChatMessage]) -> String {
    match apply_model_template(model, system, messages) {
        Some(prompt) => prompt,
        None => {
            tracing::debug!("model has no usable chat template; using ChatML");
            chatml(system, messages)
        }
    }
}

fn apply_model_template(
    model: &LlamaModel,
    system: &str,
    messages: &[ChatMessage],
) -> Option<String> {
    let template = model.chat_template(None).ok()?;
    let mut chat = Vec::with_capacity(messages.len() + 1);
    if !system.is_empty() {
        chat.push(LlamaChatMessage::new("system".into(), system.into()).ok()?);
    }
    for message in messages {
        let turn = LlamaChatMessage::new(message.role.as_str().into(), message.content.clone());
        chat.push(turn.ok()?);
    }
    model.apply_chat_template(&template, &chat, true).ok()
}

/// ChatML: `<|im_start|>role\ncontent<|im_end|>\n` per turn, then the assistant's opening.
pub(crate) fn chatml(system: &str, messages: &[ChatMessage]) -> String {
    let mut prompt = String::new();
    let mut turn = |role: &str, content: &str| {
        prompt.push_str("<|im_start|>");
        prompt.push_str(role);
        prompt.push('\n');
        prompt.push_str(content);
        prompt.push_str("<|im_end|>\n");
    };
    if !system.is_empty() {
        turn("system", system);
    }
    for message in messages {
        let role = match message.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        turn(role, &message.content);
    }
    prompt.push_str("<|im_start|>assistant\n");
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_frames_every_turn_and_opens_the_reply() {
        let prompt = chatml(
            "Be brief.",
            &[ChatMessage::user("Hi"), ChatMessage::assistant("Yo")],
        );
        assert_eq!(
            prompt,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n\
             <|im_start|>assistant\nYo<|im_end|>\n<|im_start|>assistant\n"
        );
    }
}
