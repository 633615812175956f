//! `link`: chat with any character from the terminal. See `link --help`.
//!
//! The engine runs in this process, built by the `link` crate from the same engine settings as
//! `link-server` (flags, environment and `.env`), or `--server URL` talks to a running server
//! over its HTTP API with the `link-wire` shapes.

mod app;
mod backend;
mod cards;
mod cli;
mod keys;
mod oneshot;
mod out;
mod reply;
mod session;
mod show;
mod slash;
mod spinner;
mod style;

use std::process::ExitCode;

use clap::Parser;
use link::Error;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let dotenv = dotenvy::dotenv();
    let cli = cli::Cli::parse();
    init_tracing();
    if let Err(error) = dotenv
        && !error.not_found()
    {
        tracing::warn!(%error, ".env was not read");
    }
    match app::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let style = style::Style::detect();
            out::note(&style.error(&format!("link: {}", describe(&error))));
            ExitCode::from(error.exit_code())
        }
    }
}

/// A failure as the user should read it: what happened, and when to try again.
pub(crate) fn describe(error: &Error) -> String {
    if let Error::Conflict { .. } = error {
        // The engine's words ask the caller to read again; here the next command does.
        return "the conversation changed meanwhile (in another window?): try again".to_owned();
    }
    match error.retry_after() {
        // Its own words already say when.
        Some(_) if matches!(error, Error::RateLimited { .. }) => error.to_string(),
        Some(after) => format!("{error} (try again in {} s)", after.as_secs().max(1)),
        None => error.to_string(),
    }
}

/// Warnings and errors to stderr, or what `RUST_LOG` asks for; quiet otherwise so that the
/// audit lines and progress logs of the engine do not mix with the chat. The engine's startup
/// notes for operators (such as "local chat is unmoderated") are left out: on a terminal they
/// would interleave with every command's output.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,link::providers=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_says_to_try_again() {
        let text = describe(&Error::conflict(
            "the conversation changed since it was read",
        ));
        assert!(text.ends_with("try again"), "{text}");
    }

    #[test]
    fn when_to_try_again_is_said_once() {
        let limited = Error::RateLimited {
            retry_after: std::time::Duration::from_secs(2),
        };
        assert_eq!(describe(&limited), "rate limited: retry after 2 s");
        let busy = Error::provider("openai", "overloaded")
            .with_retry_after(std::time::Duration::from_secs(3));
        assert!(describe(&busy).ends_with("(try again in 3 s)"));
    }
}
