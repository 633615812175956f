//! `link-server`: chat with any character over HTTP. See `link-server --help`.

use std::process::ExitCode;

use link_server::{Config, Telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let (config, dotenv_problem) = Config::load();
    // Logging first (and, when configured, metrics and trace export), so that everything
    // after it can say what went wrong.
    let (telemetry, problem) = Telemetry::init(&config);
    if let Some(error) = problem {
        tracing::error!(%error, "link-server failed");
        telemetry.flush_logs();
        return ExitCode::FAILURE;
    }
    if let Some(problem) = dotenv_problem {
        tracing::warn!(%problem, ".env was not read");
    }
    let code = match link_server::run(config, &telemetry).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "link-server failed");
            ExitCode::FAILURE
        }
    };
    // Sends the spans still queued and writes the log lines still queued; both block.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    code
}
