//! Counting tokens with the model's own tokenizer, so the engine fits prompts to the context
//! window exactly as the workers will read them.

use std::sync::Arc;

use link_core::{ChatRequest, TokenCounter};
use llama_cpp_2::model::LlamaModel;

use crate::template;

/// The local model's tokenizer as a [`TokenCounter`]: a text as the model tokenizes it, and a
/// whole request as the workers do, rendered with the model's chat template (beginning-of-text
/// token included).
#[derive(Clone)]
pub(crate) struct LocalTokenCounter {
    model: Arc<LlamaModel>,
}

impl LocalTokenCounter {
    pub(crate) fn new(model: Arc<LlamaModel>) -> Self {
        Self { model }
    }
}

impl std::fmt::Debug for LocalTokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTokenCounter").finish_non_exhaustive()
    }
}

impl TokenCounter for LocalTokenCounter {
    fn count(&self, text: &str) -> usize {
        // Plain text: no beginning-of-text token, and control tokens read as text (the
        // template neutralises them anyway).
        self.model
            .vocab()
            .tokenize(text.as_bytes(), false, false)
            .len()
    }

    fn count_request(&self, request: &ChatRequest) -> usize {
        // Exactly what a worker evaluates (see `generate`).
        let prompt = template::render(&self.model, &request.system, &request.messages);
        self.model
            .vocab()
            .tokenize(prompt.as_bytes(), true, true)
            .len()
    }
}
