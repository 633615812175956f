//! Fitting a prompt to the model's context window.
//!
//! The system prompt, the kept history, the newest message and the room for the reply
//! (`max_tokens`) must all fit the window the model reads, counted the way the model counts
//! ([`ChatModel::token_counter`]). History goes first, oldest message first (the compact style
//! still opens with the greeting, which it adds itself); the persona, the rules and the newest
//! message are never cut. When the newest message alone cannot fit, the turn is refused before
//! any model call with [`Error::MessageTooLong`], naming how many characters would have fitted.
//!
//! [`ChatModel::token_counter`]: crate::ChatModel::token_counter

use std::sync::Arc;

use super::remembered::memory_block;
use super::{
    ApproxTokenCounter, MESSAGE_OVERHEAD_TOKENS, OPENING_TURN, PromptBuilder, PromptStyle,
    TokenCounter, tokens_against,
};
use crate::{
    ChatMessage, ChatModel, ChatRequest, ConversationMemory, Error, GenerationParams, Message,
    Persona, Result,
};

/// A prompt fitted to a model's window, and where its kept history starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The request.
    pub request: ChatRequest,
    /// The index in the history of the oldest message kept: those before it left the window.
    pub kept_from: usize,
}

/// The context window assumed for a model that does not say its own
/// ([`ChatModel::context_window`]): small enough for any chat model in use today.
pub const DEFAULT_CONTEXT_WINDOW: usize = 8192;

/// The room kept for the reply when the request sets no `max_tokens`.
pub const DEFAULT_REPLY_TOKENS: usize = 512;

/// Bytes of text per token assumed when a token room is turned into a length limit before
/// the exact count: English prose is close to four, so the limit errs on the long side and the
/// exact fit decides.
const BYTES_PER_TOKEN: usize = 4;

/// What a prompt must fit: the model's context window, in tokens, and how the model counts
/// them.
///
/// ```
/// use std::sync::Arc;
/// use link_core::prompt::ContextFit;
/// use link_core::{ApproxTokenCounter, GenerationParams};
///
/// let fit = ContextFit::new(2048, Arc::new(ApproxTokenCounter));
/// let params = GenerationParams { max_tokens: Some(512), ..GenerationParams::default() };
/// assert_eq!(fit.prompt_room(&params), 1536);
/// ```
#[derive(Debug, Clone)]
pub struct ContextFit {
    window: usize,
    counter: Arc<dyn TokenCounter>,
}

impl Default for ContextFit {
    fn default() -> Self {
        Self::new(DEFAULT_CONTEXT_WINDOW, Arc::new(ApproxTokenCounter))
    }
}

impl ContextFit {
    /// A window of `window` tokens (prompt plus reply), counted by `counter`.
    pub fn new(window: usize, counter: Arc<dyn TokenCounter>) -> Self {
        Self { window, counter }
    }

    /// The window and counter `model` says it has.
    pub fn of(model: &dyn ChatModel) -> Self {
        Self::new(model.context_window(), model.token_counter())
    }

    /// The context window, in tokens.
    pub fn window(&self) -> usize {
        self.window
    }

    /// The token counter.
    pub fn counter(&self) -> &dyn TokenCounter {
        &*self.counter
    }

    /// The tokens the prompt may take when the reply keeps `params.max_tokens` (or
    /// [`DEFAULT_REPLY_TOKENS`]) of the window.
    pub fn prompt_room(&self, params: &GenerationParams) -> usize {
        let reply = params
            .max_tokens
            .map_or(DEFAULT_REPLY_TOKENS, |tokens| tokens as usize);
        self.window.saturating_sub(reply)
    }

    /// An upper bound on the characters of a message the model could take with these
    /// `params`, before the persona and history are known: the prompt's whole room at four
    /// bytes a token. The exact fit of each turn ([`PromptBuilder::build_fitted`]) decides.
    pub fn max_message_chars(&self, params: &GenerationParams) -> usize {
        self.prompt_room(params).saturating_mul(BYTES_PER_TOKEN)
    }
}

impl PromptBuilder {
    /// The model input for `persona` given `history` (oldest first, ending with the newest
    /// message), in `style`, with `system_extra` appended to the system prompt (who the user
    /// is), fitted to `fit`: the whole request, counted by `fit`'s counter, leaves the reply's
    /// `max_tokens` of the window free. History is kept newest first within the
    /// [history budget](Self::history_budget) and then within the window.
    ///
    /// Fails with [`Error::MessageTooLong`] when even the newest message alone does not fit,
    /// and with [`Error::InvalidRequest`] when the system prompt alone leaves no room.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use link_core::prompt::{ContextFit, PromptStyle};
    /// use link_core::{ApproxTokenCounter, Error, Message, Persona, PersonaKind, PromptBuilder, Role};
    ///
    /// let ada = Persona::new("Ada Lovelace", PersonaKind::Historical, "A mathematician.", "Good day!");
    /// let fit = ContextFit::new(2048, Arc::new(ApproxTokenCounter));
    /// let builder = PromptBuilder::default();
    /// let long = Message::new(Role::User, "word ".repeat(2000));
    /// let refused = builder.build_fitted(PromptStyle::Full, &ada, &[long], "", &fit);
    /// assert!(matches!(refused, Err(Error::MessageTooLong { max_chars }) if max_chars < 10_000));
    /// ```
    pub fn build_fitted(
        &self,
        style: PromptStyle,
        persona: &Persona,
        history: &[Message],
        system_extra: &str,
        fit: &ContextFit,
    ) -> Result<ChatRequest> {
        let memory = ConversationMemory::default();
        self.build_remembering(style, persona, &memory, history, system_extra, fit)
            .map(|fitted| fitted.request)
    }

    /// [`build_fitted`](Self::build_fitted) with the conversation's `memory` in the system
    /// prompt, as data (its pinned facts always; its summary cut to a quarter of the room
    /// when it is longer), and where the kept history starts: the messages before it left the
    /// window, which is what the rolling memory summarises.
    pub fn build_remembering(
        &self,
        style: PromptStyle,
        persona: &Persona,
        memory: &ConversationMemory,
        history: &[Message],
        system_extra: &str,
        fit: &ContextFit,
    ) -> Result<Fitted> {
        let room = fit.prompt_room(&self.params);
        let mut extra = memory_block(style, memory, room, fit.counter());
        extra.push_str(system_extra);
        let system_extra = extra.as_str();
        let mut start = history.len() - self.trim(history).len();
        loop {
            let request = self.fitted_request(style, persona, &history[start..], system_extra);
            // Most prompts are far from the window: its bound settles them without counting.
            let bound = fit.counter.count_request_at_most(&request);
            let used = tokens_against(room, bound, || fit.counter.count_request(&request));
            if used <= room {
                return Ok(Fitted {
                    request,
                    kept_from: start,
                });
            }
            if start + 1 >= history.len() {
                return Err(self.too_long(style, persona, history, system_extra, fit));
            }
            // Drop at least one message, and as many more as the excess suggests; the loop
            // counts the result again.
            let excess = used - room;
            let mut freed = 0;
            while start + 1 < history.len() && freed < excess {
                freed += fit.counter.count(&history[start].content) + MESSAGE_OVERHEAD_TOKENS;
                start += 1;
            }
        }
    }

    /// The request for `kept`, with a user turn to answer when there is none (regenerating
    /// the greeting).
    fn fitted_request(
        &self,
        style: PromptStyle,
        persona: &Persona,
        kept: &[Message],
        system_extra: &str,
    ) -> ChatRequest {
        let mut request = self.assemble(style, persona, kept, system_extra);
        if request.messages.is_empty() {
            request.messages.push(ChatMessage::user(OPENING_TURN));
        }
        request
    }

    /// Why the newest message of `history` cannot fit: how many of its characters would.
    fn too_long(
        &self,
        style: PromptStyle,
        persona: &Persona,
        history: &[Message],
        system_extra: &str,
        fit: &ContextFit,
    ) -> Error {
        let no_room = || {
            Error::invalid("the character's prompt leaves no room in the model's context window")
        };
        let Some(newest) = history.last() else {
            return no_room();
        };
        let room = fit.prompt_room(&self.params);
        let alone = self.fitted_request(style, persona, std::slice::from_ref(newest), system_extra);
        let message_tokens = fit.counter.count(&newest.content);
        let fixed = fit
            .counter
            .count_request(&alone)
            .saturating_sub(message_tokens);
        let free = room.saturating_sub(fixed);
        let chars = newest.content.chars().count();
        // The message's own characters per token tell how many characters the free tokens hold.
        let max_chars = free
            .saturating_mul(chars)
            .checked_div(message_tokens)
            .unwrap_or(0)
            .min(chars.saturating_sub(1));
        tracing::debug!(
            room,
            fixed,
            message_tokens,
            max_chars,
            "the newest message does not fit"
        );
        if max_chars == 0 {
            return no_room();
        }
        Error::MessageTooLong { max_chars }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PersonaKind, Role};
    use proptest::prelude::*;

    fn ada() -> Persona {
        let mut p = Persona::new(
            "Ada Lovelace",
            PersonaKind::Historical,
            "The mathematician who wrote the first program.",
            "Good day, I am Ada Lovelace. Have you come to talk of engines?",
        );
        p.living = Some(false);
        p
    }

    /// A counter whose exact count is the approximation's, counted in `exact`, with the
    /// byte bound a BPE tokenizer has.
    #[derive(Debug, Default)]
    struct Bounded {
        exact: std::sync::atomic::AtomicUsize,
    }

    impl TokenCounter for Bounded {
        fn count(&self, text: &str) -> usize {
            self.exact
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ApproxTokenCounter.count(text)
        }
        fn count_at_most(&self, text: &str) -> usize {
            text.len()
        }
        fn count_request_at_most(&self, request: &ChatRequest) -> usize {
            super::super::bytes_bound_request(request)
        }
    }

    #[test]
    fn a_prompt_far_from_the_window_is_not_counted_exactly() {
        let counter = Arc::new(Bounded::default());
        let fit = ContextFit::new(128_000, counter.clone());
        let builder = PromptBuilder::default().history_budget(usize::MAX);
        let history = conversation(10, 200);
        let request = builder.build_fitted(PromptStyle::Full, &ada(), &history, "", &fit);
        // Every message kept (and the opening turn before the greeting).
        assert_eq!(request.unwrap().messages.len(), history.len() + 1);
        assert_eq!(counter.exact.load(std::sync::atomic::Ordering::Relaxed), 0);

        // Near the window, the exact count decides, and the prompt fits by it.
        let fit = ContextFit::new(2048, counter.clone());
        let history = conversation(40, 200);
        let request = builder.build_fitted(PromptStyle::Full, &ada(), &history, "", &fit);
        let request = request.unwrap();
        assert!(counter.exact.load(std::sync::atomic::Ordering::Relaxed) > 0);
        assert!(request.messages.len() < history.len());
        let reply = builder.generation_params().max_tokens.unwrap_or(512) as usize;
        assert!(ApproxTokenCounter.count_request(&request) + reply <= 2048);
    }

    fn conversation(turns: usize, chars: usize) -> Vec<Message> {
        let mut history = vec![Message::new(Role::Assistant, ada().greeting)];
        for i in 0..turns {
            history.push(Message::new(
                Role::User,
                format!("{i} {}", "a".repeat(chars)),
            ));
            history.push(Message::new(Role::Assistant, format!("answer {i}")));
        }
        history.push(Message::new(Role::User, "And now?"));
        history
    }

    fn fit(window: usize) -> ContextFit {
        ContextFit::new(window, Arc::new(ApproxTokenCounter))
    }

    #[test]
    fn a_long_conversation_is_trimmed_to_the_window_in_both_styles() {
        let history = conversation(30, 1500);
        for style in [PromptStyle::Full, PromptStyle::Compact] {
            let builder = PromptBuilder::default();
            let request = builder
                .build_fitted(style, &ada(), &history, "", &fit(2048))
                .unwrap();
            let used = ApproxTokenCounter.count_request(&request);
            assert!(used <= 2048 - 512, "{style:?}: {used}");
            assert_eq!(request.messages.last().unwrap().content, "And now?");
            // More than the newest message is kept: the window is filled, not emptied.
            assert!(request.messages.len() > 3, "{style:?}");
            if style == PromptStyle::Compact {
                assert!(request.messages[1].content.starts_with(&ada().greeting));
            }
        }
    }

    #[test]
    fn a_wide_window_keeps_the_history_budget_as_its_cap() {
        let history = conversation(30, 1500);
        let builder = PromptBuilder::default();
        let wide = builder
            .build_fitted(PromptStyle::Full, &ada(), &history, "", &fit(128_000))
            .unwrap();
        let plain = builder.build(&ada(), &history);
        assert_eq!(wide, plain);
    }

    #[test]
    fn the_user_block_is_counted_and_kept() {
        let history = conversation(30, 1500);
        let extra = format!("\n\nThe user: {}", "b".repeat(2000));
        let request = PromptBuilder::default()
            .build_fitted(PromptStyle::Full, &ada(), &history, &extra, &fit(2048))
            .unwrap();
        assert!(request.system.ends_with(&extra));
        assert!(ApproxTokenCounter.count_request(&request) <= 2048 - 512);
    }

    #[test]
    fn a_message_too_long_for_the_window_names_what_fits() {
        let mut history = conversation(2, 100);
        history.push(Message::new(Role::User, "c".repeat(7000)));
        let builder = PromptBuilder::default();
        let Err(Error::MessageTooLong { max_chars }) =
            builder.build_fitted(PromptStyle::Compact, &ada(), &history, "", &fit(2048))
        else {
            panic!("a 7000-character message fits 2048 tokens");
        };
        assert!((4000..6000).contains(&max_chars), "{max_chars}");
        // A message of that many characters does fit.
        history.pop();
        history.push(Message::new(Role::User, "c".repeat(max_chars)));
        builder
            .build_fitted(PromptStyle::Compact, &ada(), &history, "", &fit(2048))
            .unwrap();
    }

    #[test]
    fn a_window_the_system_prompt_fills_is_refused_as_invalid() {
        let history = conversation(0, 0);
        let refused = PromptBuilder::default().build_fitted(
            PromptStyle::Full,
            &ada(),
            &history,
            "",
            &fit(600),
        );
        assert!(
            matches!(refused, Err(Error::InvalidRequest { .. })),
            "{refused:?}"
        );
    }

    #[test]
    fn an_empty_history_gets_a_turn_to_answer() {
        let request = PromptBuilder::default()
            .build_fitted(PromptStyle::Full, &ada(), &[], "", &fit(2048))
            .unwrap();
        assert_eq!(request.messages, [ChatMessage::user(OPENING_TURN)]);
    }

    /// A counter unlike the approximation: one token per word and per punctuation mark.
    #[derive(Debug)]
    struct Words;

    impl TokenCounter for Words {
        fn count(&self, text: &str) -> usize {
            text.split_whitespace().count()
                + text.matches(|c: char| c.is_ascii_punctuation()).count()
        }
    }

    fn arb_history() -> impl Strategy<Value = Vec<Message>> {
        let turn = ("[a-z .,']{0,1200}", any::<bool>());
        prop::collection::vec(turn, 1..40).prop_map(|turns| {
            turns
                .into_iter()
                .map(|(text, user)| {
                    let role = if user { Role::User } else { Role::Assistant };
                    Message::new(role, text)
                })
                .collect()
        })
    }

    fn arb_memory() -> impl Strategy<Value = ConversationMemory> {
        let summary = 0usize..crate::conversation_memory::MAX_SUMMARY_CHARS;
        let pinned = prop::collection::vec(
            0usize..crate::conversation_memory::MAX_PINNED_FACT_CHARS,
            0..crate::conversation_memory::MAX_PINNED_FACTS,
        );
        (summary, pinned).prop_map(|(summary, pinned)| ConversationMemory {
            summary: "m ".repeat(summary / 2),
            pinned: pinned
                .into_iter()
                .map(|n| format!("p{}", "q".repeat(n)))
                .collect(),
            ..ConversationMemory::default()
        })
    }

    proptest! {
        /// Whatever the history, persona size, memory (summary and pinned facts) and newest
        /// message, for every known context size: the prompt plus the reply fits the window by
        /// the model's counter, or the turn is refused before any model call, and then only
        /// because the newest message (or the persona and pinned facts) alone does not fit.
        #[test]
        fn every_prompt_fits_its_window(
            history in arb_history(),
            newest in 2usize..12_000,
            description in 0usize..1_500,
            memory in arb_memory(),
            compact in any::<bool>(),
            words in any::<bool>(),
            window in prop::sample::select(vec![2048usize, 4096, 8192, 32_768, 128_000, 300_000, 1_047_576]),
            max_tokens in prop::sample::select(vec![16u32, 128, 512, 1024]),
        ) {
            let mut persona = ada();
            persona.description = "x ".repeat(description / 2);
            let mut history = history;
            history.push(Message::new(Role::User, "y ".repeat(newest / 2)));
            let style = if compact { PromptStyle::Compact } else { PromptStyle::Full };
            let counter: Arc<dyn TokenCounter> = if words { Arc::new(Words) } else { Arc::new(ApproxTokenCounter) };
            let fit = ContextFit::new(window, counter.clone());
            let params = GenerationParams { max_tokens: Some(max_tokens), ..PromptBuilder::default().generation_params().clone() };
            let builder = PromptBuilder::default().params(params).history_budget(usize::MAX);
            let build = |history: &[Message]| builder.build_remembering(style, &persona, &memory, history, "", &fit);
            match build(&history) {
                Ok(fitted) => {
                    let request = fitted.request;
                    let used = counter.count_request(&request);
                    prop_assert!(used + max_tokens as usize <= window, "{used} + {max_tokens} > {window}");
                    let last = &request.messages.last().unwrap().content;
                    prop_assert!(last.ends_with(&history.last().unwrap().content));
                    // The pinned facts are always there; the memory takes at most its share
                    // beyond them.
                    for fact in &memory.pinned {
                        prop_assert!(request.system.contains(fact.as_str()));
                    }
                    prop_assert!(fitted.kept_from < history.len());
                }
                Err(Error::MessageTooLong { max_chars }) => {
                    // The newest message alone is over; one of the named length fits.
                    let alone = [Message::new(Role::User, "y ".repeat(max_chars / 2))];
                    prop_assert!(build(&alone).is_ok());
                    prop_assert!(max_chars < newest);
                }
                Err(Error::InvalidRequest { .. }) => {
                    // Only a window the system prompt (with the memory) nearly fills has no
                    // room at all.
                    let room = fit.prompt_room(builder.generation_params());
                    let pinned: usize = memory.pinned.iter().map(|f| counter.count(f) + 2).sum();
                    let system = counter.count(&builder.build_styled(style, &persona, &[]).system);
                    prop_assert!(system + pinned + room / 4 + 64 > room, "{system} {pinned} {room}");
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
