//! The process-wide llama.cpp backend: initialised once, with its logs sent to `tracing`
//! instead of stderr.

use std::sync::OnceLock;

use link_core::{Error, Result};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::{LogOptions, send_logs_to_tracing};

static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();

/// The shared backend; llama.cpp allows only one per process.
pub(crate) fn backend() -> Result<&'static LlamaBackend> {
    BACKEND
        .get_or_init(|| {
            // llama.cpp prints every tensor it loads; as tracing events they can be filtered.
            send_logs_to_tracing(LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Config {
            message: format!("llama.cpp backend failed to start: {e}"),
        })
}
