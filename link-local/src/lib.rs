//! Link's offline default: a small GGUF model run in-process by llama.cpp.
//!
//! With no API key and no cloud account, Link still runs for real:
//! - [`LocalModel`] implements [`link_core::ChatModel`]: the model is loaded once and shared,
//!   generation runs on a fixed pool of worker threads (never on the async runtime), replies
//!   stream token by token, and dropping a stream stops its generation. A bounded queue turns
//!   overload into [`link_core::Error::Busy`].
//! - [`LocalPersonaExtractor`] implements [`link_core::PersonaExtractor`]: the output is
//!   constrained by a grammar, so it always parses. A small model writes a character sheet of
//!   the five fields that make the character (the rest is derived or left empty); a larger
//!   one the whole persona as JSON under a grammar generated from the `Persona` JSON schema.
//! - A model below [`SMALL_MODEL_PARAMS`] parameters asks the engine for the compact prompt
//!   style ([`link_core::prompt::PromptStyle::Compact`]); [`LocalConfig::with_prompt_style`]
//!   chooses otherwise.
//!
//! The default model is SmolLM2-135M-Instruct (Q4_1, Apache-2.0, ~98 MB), placed by
//! `scripts/fetch-model.sh`; any other GGUF file works through `LINK_MODEL_PATH` or
//! [`LocalConfig::new`].
//!
//! ```no_run
//! # async fn demo() -> link_core::Result<()> {
//! use link_core::PersonaExtractor;
//! use link_local::{LocalConfig, LocalModel, LocalPersonaExtractor};
//!
//! let model = LocalModel::load_async(LocalConfig::from_env()).await?;
//! let persona = LocalPersonaExtractor::new(model.clone())?.extract("a grumpy pirate").await?;
//! println!("{}", persona.greeting);
//! # Ok(()) }
//! ```
//!
//! llama.cpp's own log lines are sent to `tracing` (target `llama-cpp-2`), not to stderr.

mod backend;
mod config;
mod cpu;
mod extractor;
mod generate;
mod grammar;
mod model;
mod pool;
mod prefix;
mod sampler;
mod sheet;
mod stop;
mod template;
mod tokens;
mod utf8;

pub use config::{DEFAULT_MODEL_FILE, LocalConfig, SMALL_MODEL_PARAMS, default_model_path};
pub use extractor::LocalPersonaExtractor;
pub use model::{LocalModel, LocalStats};
