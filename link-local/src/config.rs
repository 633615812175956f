//! How to run the local model: which GGUF file, how many workers, how much queue.

use std::path::PathBuf;

use link_core::prompt::PromptStyle;

/// The file name of the default model, placed by `scripts/fetch-model.sh`.
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// Settings for [`LocalModel`](crate::LocalModel).
///
/// ```
/// use link_local::LocalConfig;
/// let config = LocalConfig::new("/models/any.gguf").with_workers(2).with_queue(4);
/// assert_eq!(config.workers, 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LocalConfig {
    /// The GGUF model file.
    pub model_path: PathBuf,
    /// Generations that run at once; each worker owns one llama.cpp context (KV cache).
    pub workers: usize,
    /// Requests that may wait for a worker; beyond that, requests fail with `Error::Busy`.
    pub queue: usize,
    /// Context window per worker, in tokens (prompt plus reply).
    pub context_tokens: u32,
    /// CPU threads per worker; `None` divides the machine's cores among the workers (at least
    /// one each), as llama.cpp does by default. ggml's threads spin-wait for each other, so
    /// more threads than free cores makes generation many times slower, not faster: on a
    /// machine shared with other heavy work, set fewer.
    pub threads: Option<usize>,
    /// Reply length when the request sets no `max_tokens`.
    pub default_max_tokens: u32,
    /// Penalty for repeating recent tokens (1.0 turns it off); small models loop without it.
    pub repeat_penalty: f32,
    /// Sampling seed; `None` picks a fresh random one per request.
    pub seed: Option<u32>,
    /// How the engine writes this model's prompts (and how the extractor asks it for a
    /// persona); `None` chooses by the model's size: [`PromptStyle::Compact`] below
    /// [`SMALL_MODEL_PARAMS`] parameters, [`PromptStyle::Full`] from there up.
    pub prompt_style: Option<PromptStyle>,
}

/// Below this many parameters a model gets the compact prompt style by default: models of a
/// few hundred million parameters (SmolLM2-135M, the default) do not follow the full one.
pub const SMALL_MODEL_PARAMS: u64 = 2_000_000_000;

impl LocalConfig {
    /// Defaults for the model at `model_path`: one worker, a queue of 8, 2048-token context.
    pub fn new(model_path: impl Into<PathBuf>) -> Self {
        Self {
            model_path: model_path.into(),
            workers: 1,
            queue: 8,
            context_tokens: 2048,
            threads: None,
            default_max_tokens: 256,
            repeat_penalty: 1.1,
            seed: None,
            prompt_style: None,
        }
    }

    /// Defaults for the model found by [`default_model_path`].
    pub fn from_env() -> Self {
        Self::new(default_model_path())
    }

    /// Sets the number of workers (at least one).
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Sets how many requests may wait for a worker.
    pub fn with_queue(mut self, queue: usize) -> Self {
        self.queue = queue;
        self
    }

    /// Sets the context window per worker.
    pub fn with_context_tokens(mut self, tokens: u32) -> Self {
        self.context_tokens = tokens;
        self
    }

    /// Sets CPU threads per worker.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads.max(1));
        self
    }

    /// Sets the reply length used when a request gives none.
    pub fn with_default_max_tokens(mut self, tokens: u32) -> Self {
        self.default_max_tokens = tokens;
        self
    }

    /// Fixes the sampling seed, for repeatable output.
    pub fn with_seed(mut self, seed: u32) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets the prompt style instead of choosing it by the model's size.
    pub fn with_prompt_style(mut self, style: PromptStyle) -> Self {
        self.prompt_style = Some(style);
        self
    }

    /// The prompt style for a model of `params` parameters: the configured one, else by size.
    pub(crate) fn style_for(&self, params: u64) -> PromptStyle {
        self.prompt_style.unwrap_or(if params < SMALL_MODEL_PARAMS {
            PromptStyle::Compact
        } else {
            PromptStyle::Full
        })
    }

    pub(crate) fn threads_per_worker(&self) -> i32 {
        let threads = self.threads.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            (cores / self.workers.max(1)).max(1)
        });
        i32::try_from(threads).unwrap_or(i32::MAX)
    }
}

/// Where the model is looked for: `LINK_MODEL_PATH` if set, else the file that
/// `scripts/fetch-model.sh` places in `LINK_MODEL_DIR`, else in
/// `${XDG_CACHE_HOME:-$HOME/.cache}/link/models`.
pub fn default_model_path() -> PathBuf {
    if let Some(path) = std::env::var_os("LINK_MODEL_PATH").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    model_dir().join(DEFAULT_MODEL_FILE)
}

fn model_dir() -> PathBuf {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("LINK_MODEL_DIR") {
        return dir;
    }
    let cache = var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|home| home.join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("link").join("models")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_divides_the_cores_among_the_workers() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let config = LocalConfig::new("model.gguf");
        assert_eq!(config.threads_per_worker(), cores as i32);
        assert_eq!(
            config.clone().with_workers(cores * 2).threads_per_worker(),
            1
        );
        assert_eq!(config.with_threads(3).threads_per_worker(), 3);
    }

    #[test]
    fn small_models_get_the_compact_style_unless_configured() {
        let config = LocalConfig::new("model.gguf");
        assert_eq!(config.style_for(134_515_008), PromptStyle::Compact);
        assert_eq!(config.style_for(SMALL_MODEL_PARAMS), PromptStyle::Full);
        let full = config.with_prompt_style(PromptStyle::Full);
        assert_eq!(full.style_for(134_515_008), PromptStyle::Full);
    }
}
