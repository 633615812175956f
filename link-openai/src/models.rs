//! What Link knows of OpenAI's chat models: their context windows and their tokenizers.
//!
//! The engine fits every prompt to the model's context window
//! ([`ChatModel::context_window`](link_core::ChatModel::context_window)), counted with the
//! model's own encoding where it is known. A model is matched by the longest known prefix of
//! its name, so dated snapshots (`gpt-4o-2024-08-06`) take their family's entry. Models not in
//! the table (other OpenAI-compatible servers: Ollama, vLLM, ...) get
//! [`DEFAULT_CONTEXT_WINDOW`] and the approximate counter; set the window of such a model with
//! [`OpenAiChatModel::with_context_window`](crate::OpenAiChatModel::with_context_window).
//!
//! The windows are OpenAI's published context lengths (platform.openai.com/docs/models); the
//! tokenizers are tiktoken's, whose encodings the tiktoken-rs crate embeds (nothing is
//! downloaded at run time).

use std::sync::{Arc, OnceLock};

use link_core::prompt::DEFAULT_CONTEXT_WINDOW;
use link_core::{ApproxTokenCounter, ChatRequest, TokenCounter};
use tiktoken_rs::CoreBPE;

use crate::token_memo::TokenMemo;

/// A tiktoken encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// GPT-4o, GPT-4.1, GPT-4.5, GPT-5 and the o-series.
    O200k,
    /// GPT-4 and GPT-3.5.
    Cl100k,
}

/// Known model families: name prefix, context window in tokens, encoding. Longest prefix
/// wins, so `gpt-4o` is not taken for `gpt-4`.
const KNOWN: &[(&str, usize, Encoding)] = &[
    ("gpt-5", 400_000, Encoding::O200k),
    ("gpt-4.1", 1_047_576, Encoding::O200k),
    ("gpt-4.5", 128_000, Encoding::O200k),
    ("gpt-4o", 128_000, Encoding::O200k),
    ("chatgpt-4o", 128_000, Encoding::O200k),
    ("o1-mini", 128_000, Encoding::O200k),
    ("o1", 200_000, Encoding::O200k),
    ("o3", 200_000, Encoding::O200k),
    ("o4-mini", 200_000, Encoding::O200k),
    ("gpt-4-turbo", 128_000, Encoding::Cl100k),
    ("gpt-4-32k", 32_768, Encoding::Cl100k),
    ("gpt-4", 8_192, Encoding::Cl100k),
    ("gpt-3.5-turbo", 16_385, Encoding::Cl100k),
];

/// The table's entry for `model`, by the longest matching prefix.
fn known(model: &str) -> Option<(usize, Encoding)> {
    KNOWN
        .iter()
        .filter(|(prefix, ..)| model.starts_with(prefix))
        .max_by_key(|(prefix, ..)| prefix.len())
        .map(|&(_, window, encoding)| (window, encoding))
}

/// The context window of `model`, in tokens: the table's, else [`DEFAULT_CONTEXT_WINDOW`].
pub(crate) fn context_window(model: &str) -> usize {
    known(model).map_or(DEFAULT_CONTEXT_WINDOW, |(window, _)| window)
}

/// How `model` counts tokens: its tiktoken encoding, else the approximation.
pub(crate) fn token_counter(model: &str) -> Arc<dyn TokenCounter> {
    match known(model) {
        Some((_, encoding)) => Arc::new(TiktokenCounter(encoding)),
        None => Arc::new(ApproxTokenCounter),
    }
}

/// Counts with a tiktoken encoding. The per-message overhead stays the core's default (four
/// tokens a message and three for the reply's opening; OpenAI's own accounting charges three
/// a message), on the safe side.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TiktokenCounter(pub(crate) Encoding);

impl TiktokenCounter {
    fn bpe(self) -> &'static CoreBPE {
        match self.0 {
            Encoding::O200k => tiktoken_rs::o200k_base_singleton(),
            Encoding::Cl100k => tiktoken_rs::cl100k_base_singleton(),
        }
    }
}

impl TiktokenCounter {
    /// The counts this encoding already made (see `token_memo.rs`).
    fn memo(self) -> &'static TokenMemo {
        static O200K: OnceLock<TokenMemo> = OnceLock::new();
        static CL100K: OnceLock<TokenMemo> = OnceLock::new();
        match self.0 {
            Encoding::O200k => O200K.get_or_init(TokenMemo::default),
            Encoding::Cl100k => CL100K.get_or_init(TokenMemo::default),
        }
    }
}

impl TokenCounter for TiktokenCounter {
    fn count(&self, text: &str) -> usize {
        // Ordinary text: a special token's spelling in a message is just text to the API.
        let bpe = self.bpe();
        (self.memo()).count(text, |text| bpe.encode_ordinary(text).len())
    }

    /// A byte-level BPE token is at least one byte. Prompts are fitted by this bound first,
    /// so the encoding (about 50 MB of tables for o200k) is loaded and run only for prompts
    /// whose bytes come near the model's window.
    fn count_at_most(&self, text: &str) -> usize {
        text.len()
    }

    fn count_request_at_most(&self, request: &ChatRequest) -> usize {
        link_core::prompt::bytes_bound_request(request)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use link_core::prompt::{ContextFit, PromptStyle};
    use link_core::{Error, Message, Persona, PersonaKind, PromptBuilder, Role};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The memo's counts, kept by paragraphs, are the encodings' own counts of the whole
        /// text: lines and breaks of every kind, punctuation before a break, digits, non-ASCII.
        #[test]
        fn kept_counts_are_the_encodings_counts(
            lines in prop::collection::vec(("[a-zA-Z0-9 .,:;!?'\"()<>{}éü€中\u{a0}-]{0,120}", "(\n|\n\n|\r\n| \n|\n \n|\n\t)"), 1..12),
            encoding in prop::sample::select(vec![Encoding::O200k, Encoding::Cl100k]),
        ) {
            let text: String = lines.iter().map(|(line, brk)| format!("{line}{brk}")).collect();
            let counter = TiktokenCounter(encoding);
            let exact = counter.bpe().encode_ordinary(&text).len();
            prop_assert_eq!(counter.count(&text), exact);
            prop_assert_eq!(counter.count(&text), exact, "again, from the kept counts");
        }

        /// The cheap bounds the prompt is fitted by first are never below the exact counts.
        #[test]
        fn the_bounds_are_never_below_the_counts(
            texts in prop::collection::vec("[a-zA-Z0-9 .,\n€中😀]{0,300}", 1..8),
            encoding in prop::sample::select(vec![Encoding::O200k, Encoding::Cl100k]),
        ) {
            let counter = TiktokenCounter(encoding);
            for text in &texts {
                prop_assert!(counter.count_at_most(text) >= counter.count(text));
            }
            let request = ChatRequest {
                system: texts[0].clone(),
                messages: texts[1..].iter().map(|t| link_core::ChatMessage::user(t.as_str())).collect(),
                params: Default::default(),
            };
            prop_assert!(counter.count_request_at_most(&request) >= counter.count_request(&request));
        }

        /// With a model's own window (or a smaller one set by configuration) and its tiktoken
        /// count, the engine's prompt plus the reply always fits, whatever the history.
        #[test]
        fn prompts_fit_by_the_models_own_count(
            turns in prop::collection::vec(("[a-zA-Z0-9 .,!?éü]{0,2000}", any::<bool>()), 1..30),
            newest in 1usize..9_000,
            model in prop::sample::select(vec!["gpt-4", "gpt-4o-mini", "gpt-3.5-turbo"]),
            window in prop::sample::select(vec![None, Some(2048usize), Some(4096)]),
        ) {
            let mut history: Vec<Message> = turns
                .into_iter()
                .map(|(text, user)| Message::new(if user { Role::User } else { Role::Assistant }, text))
                .collect();
            history.push(Message::new(Role::User, "ab1 ".repeat(newest / 4 + 1)));
            let window = window.unwrap_or_else(|| context_window(model));
            let counter = token_counter(model);
            let fit = ContextFit::new(window, counter.clone());
            let persona = Persona::new("Ada Lovelace", PersonaKind::Historical, "A mathematician.", "Good day!");
            let builder = PromptBuilder::default().history_budget(usize::MAX);
            let reply = builder.generation_params().max_tokens.unwrap_or(512) as usize;
            match builder.build_fitted(PromptStyle::Full, &persona, &history, "", &fit) {
                Ok(request) => prop_assert!(counter.count_request(&request) + reply <= window),
                Err(Error::MessageTooLong { max_chars }) => prop_assert!(max_chars < newest + 4),
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
    }

    #[test]
    fn known_models_have_their_window_and_encoding() {
        let cases = [
            ("gpt-4o-mini", 128_000, Some(Encoding::O200k)),
            ("gpt-4o-2024-08-06", 128_000, Some(Encoding::O200k)),
            ("gpt-4.1-nano", 1_047_576, Some(Encoding::O200k)),
            ("o3-mini", 200_000, Some(Encoding::O200k)),
            ("o1-mini", 128_000, Some(Encoding::O200k)),
            ("gpt-4", 8_192, Some(Encoding::Cl100k)),
            ("gpt-4-turbo-preview", 128_000, Some(Encoding::Cl100k)),
            ("gpt-3.5-turbo-0125", 16_385, Some(Encoding::Cl100k)),
            ("llama3.2", DEFAULT_CONTEXT_WINDOW, None),
        ];
        for (model, window, encoding) in cases {
            assert_eq!(context_window(model), window, "{model}");
            assert_eq!(known(model).map(|(_, e)| e), encoding, "{model}");
        }
    }

    #[test]
    fn the_encodings_give_tiktokens_known_tokens() {
        // From OpenAI's cookbook, "How to count tokens with tiktoken".
        let text = "tiktoken is great!";
        let o200k = TiktokenCounter(Encoding::O200k).bpe().encode_ordinary(text);
        assert_eq!(o200k, [83, 8251, 2488, 382, 2212, 0]);
        let cl100k = TiktokenCounter(Encoding::Cl100k)
            .bpe()
            .encode_ordinary(text);
        assert_eq!(cl100k, [83, 1609, 5963, 374, 2294, 0]);
        assert_eq!(token_counter("gpt-4o").count(text), 6);
        assert_eq!(token_counter("gpt-4").count(text), 6);
        // Other scripts are where the approximation and the encodings part ways.
        let japanese = "お誕生日おめでとう";
        assert_eq!(token_counter("gpt-4").count(japanese), 9);
        assert!(token_counter("gpt-4o").count(japanese) < 9);
        assert_eq!(token_counter("llama3.2").count(japanese), 7);
    }
}
