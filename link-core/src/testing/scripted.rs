//! A chat model and an extractor that follow a script: deterministic replies, streams split
//! into words, and failures injected where a test wants them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;

use crate::{
    ChatEvent, ChatModel, ChatRequest, ChatResponse, ChatStream, Error, Persona, PersonaExtractor,
    PersonaKind, Result, StopReason, Usage,
};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Step {
    /// Reply with this text (streamed word by word).
    Reply(String),
    /// Fail before the first token.
    Fail(Error),
    /// Stream this text, then fail mid-way with the error.
    FailMidStream(String, Error),
    /// A guardrail intervenes with this message.
    Guardrail(String),
    /// Reply with what this function makes of the request (a summariser that folds what it
    /// is given, an echo).
    Compute(fn(&ChatRequest) -> String),
}

/// A [`ChatModel`] that answers from a script, cycling through its steps.
///
/// It records every request it receives and counts live streams, so tests can check that a
/// dropped stream really stopped the model.
///
/// ```
/// use link_core::testing::ScriptedChatModel;
/// let model = ScriptedChatModel::replying(["Hello there.", "Goodbye."]);
/// assert_eq!(model.requests().len(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct ScriptedChatModel {
    steps: Arc<Vec<Step>>,
    next: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<ChatRequest>>>,
    live_streams: Arc<AtomicUsize>,
    chunk_delay: Duration,
    context_window: usize,
}

impl ScriptedChatModel {
    /// A model following `steps` in order, then again from the start.
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        let mut steps: Vec<Step> = steps.into_iter().collect();
        if steps.is_empty() {
            steps.push(Step::Reply("...".into()));
        }
        Self {
            steps: Arc::new(steps),
            next: Arc::default(),
            requests: Arc::default(),
            live_streams: Arc::default(),
            chunk_delay: Duration::ZERO,
            context_window: crate::prompt::DEFAULT_CONTEXT_WINDOW,
        }
    }

    /// Says its context window is `tokens` (default
    /// [`DEFAULT_CONTEXT_WINDOW`](crate::prompt::DEFAULT_CONTEXT_WINDOW)), to test fitting.
    pub fn with_context_window(mut self, tokens: usize) -> Self {
        self.context_window = tokens;
        self
    }

    /// A model that replies with these texts in turn.
    pub fn replying<S: Into<String>>(replies: impl IntoIterator<Item = S>) -> Self {
        Self::new(replies.into_iter().map(|r| Step::Reply(r.into())))
    }

    /// Waits this long before each streamed chunk and before a whole reply (to test slow
    /// models and cancellation).
    pub fn with_chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Streams currently open (not yet finished or dropped).
    pub fn live_streams(&self) -> usize {
        self.live_streams.load(Ordering::SeqCst)
    }

    fn take(&self, request: ChatRequest) -> Step {
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        let step = match &self.steps[i % self.steps.len()] {
            Step::Compute(f) => Step::Reply(f(&request)),
            step => step.clone(),
        };
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request);
        }
        step
    }
}

fn usage_for(request: &ChatRequest, reply: &str) -> Usage {
    let input: usize = request.messages.iter().map(|m| m.content.len()).sum();
    Usage::new(
        (request.system.len() + input).div_ceil(4) as u64,
        reply.len().div_ceil(4) as u64,
    )
}

/// Splits text into chunks that keep their trailing spaces, so they concatenate back exactly.
fn chunks(text: &str) -> Vec<String> {
    text.split_inclusive(' ').map(str::to_owned).collect()
}

/// Decrements the live-stream count when the stream is dropped, finished or not.
struct LiveGuard(Arc<AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl ChatModel for ScriptedChatModel {
    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse> {
        let usage = |text: &str| Some(usage_for(&request, text));
        let step = self.take(request.clone());
        if !self.chunk_delay.is_zero() {
            tokio::time::sleep(self.chunk_delay).await;
        }
        match step {
            Step::Reply(text) => Ok(ChatResponse {
                usage: usage(&text),
                text,
                stop_reason: StopReason::EndTurn,
            }),
            Step::Fail(error) | Step::FailMidStream(_, error) => Err(error),
            Step::Compute(_) => Err(Error::provider("scripted", "a step was not computed")),
            Step::Guardrail(message) => Ok(ChatResponse {
                usage: usage(&message),
                text: message,
                stop_reason: StopReason::GuardrailIntervened,
            }),
        }
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let step = self.take(request.clone());
        let (text, tail) = match step {
            Step::Fail(error) => return Err(error),
            // `take` computes these into replies.
            Step::Compute(_) => {
                return Err(Error::provider("scripted", "a step was not computed"));
            }
            Step::Reply(text) => {
                let done = ChatEvent::Done {
                    stop_reason: StopReason::EndTurn,
                    usage: Some(usage_for(&request, &text)),
                };
                (text, Ok(done))
            }
            Step::FailMidStream(text, error) => (text, Err(error)),
            Step::Guardrail(message) => {
                let event = ChatEvent::GuardrailIntervened {
                    message: Some(message),
                };
                (String::new(), Ok(event))
            }
        };
        let mut events: Vec<Result<ChatEvent>> = chunks(&text)
            .into_iter()
            .map(|text| Ok(ChatEvent::Delta { text }))
            .collect();
        events.push(tail);
        self.live_streams.fetch_add(1, Ordering::SeqCst);
        let guard = Arc::new(LiveGuard(self.live_streams.clone()));
        let delay = self.chunk_delay;
        let stream = futures::stream::iter(events).then(move |event| {
            let _alive = guard.clone();
            async move {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                event
            }
        });
        Ok(stream.boxed())
    }

    fn model_id(&self) -> String {
        "scripted".to_owned()
    }

    fn context_window(&self) -> usize {
        self.context_window
    }
}

/// A [`PersonaExtractor`] that makes a simple valid persona from the request, returns a fixed
/// persona, or fails.
#[derive(Debug, Clone, Default)]
pub struct ScriptedExtractor {
    fixed: Option<Persona>,
    error: Option<Error>,
}

impl ScriptedExtractor {
    /// Always returns `persona` (which may be invalid, to test validation).
    pub fn returning(persona: Persona) -> Self {
        Self {
            fixed: Some(persona),
            error: None,
        }
    }

    /// Always fails with `error`.
    pub fn failing(error: Error) -> Self {
        Self {
            fixed: None,
            error: Some(error),
        }
    }
}

#[async_trait]
impl PersonaExtractor for ScriptedExtractor {
    async fn extract(&self, request: &str) -> Result<Persona> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        if let Some(persona) = &self.fixed {
            return Ok(persona.clone());
        }
        let mut persona = Persona::new(
            request,
            PersonaKind::Fictional,
            format!("{request}, as imagined for this chat."),
            format!("Greetings! I am {request}. What shall we talk about?"),
        );
        persona.speaking_style = "Warm and vivid.".into();
        persona.example_lines = vec![format!("As {request}, I must say this is delightful.")];
        Ok(persona)
    }

    fn model_id(&self) -> String {
        "scripted".to_owned()
    }
}
