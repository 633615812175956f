//! `link-server`: chat with any character over HTTP. See `link-server --help`.

use std::process::ExitCode;

use link_server::Config;
use link_server::config::LogFormat;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let (config, dotenv_problem) = Config::load();
    init_tracing(config.log_format);
    if let Some(problem) = dotenv_problem {
        tracing::warn!(%problem, ".env was not read");
    }
    match link_server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "link-server failed");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: `info`, with llama.cpp's chatty model
/// loader at `warn`), as JSON lines when `LINK_LOG_FORMAT=json` (for CloudWatch and other
/// collectors).
fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,llama-cpp-2=warn,llama_cpp_2=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == LogFormat::Json {
        builder.json().init();
    } else {
        builder.init();
    }
}
