//! [`LocalModel`]: a GGUF model loaded once and shared by a fixed pool of workers.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use futures::StreamExt;
use link_core::prompt::PromptStyle;
use link_core::{
    ChatEvent, ChatModel, ChatRequest, ChatResponse, ChatStream, Error, Result, TokenCounter,
};
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;

use crate::LocalConfig;
use crate::backend::backend;
use crate::generate::Job;
use crate::pool::Pool;
use crate::sampler::Sampling;
use crate::template;
use crate::tokens::LocalTokenCounter;

/// Events buffered between a worker and its caller; the worker waits when the caller lags.
const EVENT_BUFFER: usize = 32;

/// An in-process GGUF model (llama.cpp) implementing [`ChatModel`].
///
/// Cheap to clone: clones share the loaded weights and the worker pool. Generation runs on
/// the pool's own threads; dropping a stream stops its generation at the next token.
///
/// ```no_run
/// # async fn demo() -> link_core::Result<()> {
/// use link_core::{ChatMessage, ChatModel, ChatRequest, GenerationParams};
/// use link_local::{LocalConfig, LocalModel};
///
/// let model = LocalModel::load_async(LocalConfig::from_env()).await?;
/// let reply = model
///     .complete(ChatRequest {
///         system: "You are a pirate.".into(),
///         messages: vec![ChatMessage::user("Ahoy!")],
///         params: GenerationParams { max_tokens: Some(32), ..Default::default() },
///     })
///     .await?;
/// println!("{}", reply.text);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct LocalModel {
    inner: Arc<Inner>,
}

struct Inner {
    // Field order matters: the pool (and its queue) goes first so workers stop before the
    // weights are released; workers also hold their own reference to the weights.
    pool: Pool,
    model: Arc<LlamaModel>,
    config: LocalConfig,
    id: String,
    style: PromptStyle,
}

/// A snapshot of what the model's workers are doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct LocalStats {
    /// Generations running right now.
    pub active_generations: usize,
    /// Requests accepted and waiting in the queue for a worker (at most `LocalConfig::queue`;
    /// a further request fails with `Error::Busy`). A request whose caller gave up while it
    /// waited still counts until a worker takes it and drops it.
    pub queued_generations: usize,
    /// Tokens generated since the model was loaded, over all requests.
    pub tokens_generated: u64,
    /// Times the output grammar rejected a freely sampled token and the whole vocabulary had
    /// to be filtered.
    pub grammar_rejections: u64,
    /// Prompt tokens found already evaluated in a worker's KV cache (a chat's earlier turns,
    /// an extraction's instructions) and so not evaluated again.
    pub prompt_tokens_reused: u64,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("id", &self.inner.id)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl LocalModel {
    /// Loads the model and starts its workers. Blocks (reading the file takes a moment): from
    /// async code use [`load_async`](Self::load_async).
    ///
    /// A missing, unreadable or invalid file gives [`Error::Config`] naming the path.
    pub fn load(config: LocalConfig) -> Result<Self> {
        let path = config.model_path.clone();
        check_file(&path)?;
        crate::cpu::check()?;
        let backend = backend()?;
        let params = LlamaModelParams::default();
        let model =
            LlamaModel::load_from_file(backend, &path, &params).map_err(|e| Error::Config {
                message: format!(
                    "could not load the GGUF model {} ({e}); is it a valid GGUF file?",
                    path.display()
                ),
            })?;
        let model = Arc::new(model);
        let pool = Pool::start(&model, &config)?;
        let id = path
            .file_stem()
            .map_or_else(|| "local".to_owned(), |s| s.to_string_lossy().into_owned());
        let style = config.style_for(model.n_params());
        tracing::info!(model = %id, workers = config.workers, queue = config.queue, ?style, "local model loaded");
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                model,
                config,
                id,
                style,
            }),
        })
    }

    /// [`load`](Self::load) on a blocking thread.
    pub async fn load_async(config: LocalConfig) -> Result<Self> {
        tokio::task::spawn_blocking(move || Self::load(config))
            .await
            .map_err(|e| Error::Config {
                message: format!("model loading stopped: {e}"),
            })?
    }

    /// What the workers are doing now.
    pub fn stats(&self) -> LocalStats {
        let c = &self.inner.pool.counters;
        LocalStats {
            active_generations: c.active.load(Ordering::SeqCst),
            queued_generations: c.queued(),
            tokens_generated: c.tokens.load(Ordering::Relaxed),
            grammar_rejections: c.grammar_rejections.load(Ordering::Relaxed),
            prompt_tokens_reused: c.prompt_tokens_reused.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn inner_id(&self) -> String {
        self.inner.id.clone()
    }

    /// The configuration the model was loaded with.
    pub fn config(&self) -> &LocalConfig {
        &self.inner.config
    }

    /// Streams a reply whose text follows `grammar` (GBNF, root rule `root`; for example
    /// the output of `json_schema_to_grammar`, or [`LocalPersonaExtractor::grammar`]).
    ///
    /// The grammar is enforced the fast way: each token is sampled freely and only checked
    /// against the grammar; the whole vocabulary is filtered only when it is rejected. A
    /// grammar that does not parse fails before the first token with `Error::Config`.
    ///
    /// ```no_run
    /// # async fn demo() -> link_core::Result<()> {
    /// use futures::StreamExt;
    /// use link_core::{ChatMessage, ChatRequest};
    /// use link_local::{LocalConfig, LocalModel};
    ///
    /// let model = LocalModel::load_async(LocalConfig::from_env()).await?;
    /// let request = ChatRequest {
    ///     system: "Answer yes or no.".into(),
    ///     messages: vec![ChatMessage::user("Is the sky blue?")],
    ///     params: Default::default(),
    /// };
    /// let mut reply = model.stream_with_grammar(request, r#"root ::= "yes" | "no""#).await?;
    /// while let Some(event) = reply.next().await {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// [`LocalPersonaExtractor::grammar`]: crate::LocalPersonaExtractor::grammar
    pub async fn stream_with_grammar(
        &self,
        request: ChatRequest,
        grammar: impl Into<Arc<str>>,
    ) -> Result<ChatStream> {
        let grammar = Some(grammar.into());
        self.generate(&request.system, &request.messages, &request.params, grammar)
            .await
    }

    /// Queues a generation and returns its stream once it has started (or failed to).
    pub(crate) async fn generate(
        &self,
        system: &str,
        messages: &[link_core::ChatMessage],
        params: &link_core::GenerationParams,
        grammar: Option<Arc<str>>,
    ) -> Result<ChatStream> {
        if messages.is_empty() {
            return Err(Error::invalid("the chat request has no messages"));
        }
        let config = &self.inner.config;
        let max_tokens = params.max_tokens.unwrap_or(config.default_max_tokens);
        if max_tokens == 0 {
            return Err(Error::invalid("max_tokens must be at least 1"));
        }
        let (events, mut rx) = tokio::sync::mpsc::channel(EVENT_BUFFER);
        self.inner.pool.submit(Job {
            prompt: template::render(&self.inner.model, system, messages),
            sampling: Sampling::from_params(params, config.repeat_penalty, config.seed),
            grammar,
            max_tokens,
            stops: params.stop.clone(),
            events,
        })?;
        // The first event tells whether the generation started: an error here is the
        // "failed before the first token" of the ChatModel contract.
        let first = rx
            .recv()
            .await
            .ok_or_else(|| crate::generate::failure("the model worker stopped".into()))??;
        let rest =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
        Ok(futures::stream::once(async move { Ok(first) })
            .chain(rest)
            .boxed())
    }
}

fn check_file(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::Config {
        message: format!(
            "model file {} is not readable ({e}); run scripts/setup.sh (or scripts/fetch-model.sh), or set LINK_MODEL_PATH",
            path.display()
        ),
    })?;
    if !meta.is_file() {
        return Err(Error::Config {
            message: format!("model path {} is not a file", path.display()),
        });
    }
    Ok(())
}

#[async_trait]
impl ChatModel for LocalModel {
    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse> {
        let mut stream = self.stream(request).await?;
        let mut text = String::new();
        while let Some(event) = stream.next().await {
            match event? {
                ChatEvent::Delta { text: delta } => text.push_str(&delta),
                ChatEvent::Done { stop_reason, usage } => {
                    return Ok(ChatResponse {
                        text,
                        stop_reason,
                        usage,
                    });
                }
                _ => {}
            }
        }
        Err(crate::generate::failure(
            "the reply ended without a done event".into(),
        ))
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        self.generate(&request.system, &request.messages, &request.params, None)
            .await
    }

    fn model_id(&self) -> String {
        self.inner.id.clone()
    }

    fn prompt_style(&self) -> PromptStyle {
        self.inner.style
    }

    /// The configured context window ([`LocalConfig::context_tokens`]): llama.cpp may round
    /// its own up, but the workers hold every prompt and reply to the configured one.
    fn context_window(&self) -> usize {
        self.inner.config.context_tokens as usize
    }

    /// The model's own tokenizer: a request counts exactly the tokens a worker evaluates for
    /// it (the chat template rendered and tokenized).
    fn token_counter(&self) -> Arc<dyn TokenCounter> {
        Arc::new(LocalTokenCounter::new(self.inner.model.clone()))
    }
}
