//! Extracts a persona and prints it as JSON.
//!
//! ```sh
//! OPENAI_API_KEY=sk-... cargo run -p link-openai --example extract -- "Ada Lovelace"
//! # or any OpenAI-compatible server, e.g. Ollama:
//! OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_MODEL=llama3.2 \
//!     cargo run -p link-openai --example extract -- "a grumpy pirate who loves cats"
//! ```
//!
//! `OPENAI_MODEL` picks the model (default `gpt-4o-mini`). Without a key or a base URL it
//! says what to set and exits with status 1; a usage error exits with 2.
// A command-line example: its output is stdout.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use link_core::PersonaExtractor;
use link_openai::{DEFAULT_MODEL, OpenAiConfigBuilder, OpenAiPersonaExtractor};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let request = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    if request.trim().is_empty() {
        eprintln!("usage: extract <character request>, e.g. extract \"Ada Lovelace\"");
        return ExitCode::from(2);
    }
    match run(&request).await {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            if matches!(err, link_core::Error::Config { .. }) {
                eprintln!(
                    "hint: set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL (and OPENAI_MODEL) \
                     for a compatible server such as http://localhost:11434/v1"
                );
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(request: &str) -> link_core::Result<String> {
    let model = std::env::var("OPENAI_MODEL").unwrap_or_else(|_| DEFAULT_MODEL.to_owned());
    let config = OpenAiConfigBuilder::from_env().model(model).build()?;
    let extractor = OpenAiPersonaExtractor::new(config)?;
    let persona = extractor.extract(request).await?;
    serde_json::to_string_pretty(&persona).map_err(|e| link_core::Error::MalformedOutput {
        message: e.to_string(),
    })
}
