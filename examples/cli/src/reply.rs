//! Playing a streamed reply: text as it arrives, a spinner until the first token, and, in the
//! interactive loop, Ctrl-C to stop it (dropping the stream keeps the partial reply).

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use futures::StreamExt;
use link::Result;

use crate::backend::{ReplyEvent, ReplyStream};
use crate::out;
use crate::spinner::Spinner;

/// How to show a reply.
#[derive(Debug, Clone, Copy)]
pub struct Show {
    /// Print the text as it arrives.
    pub echo: bool,
    /// Spin until the first token.
    pub spinner: bool,
    /// Ctrl-C stops the reply instead of the program.
    pub interruptible: bool,
}

/// What came of a reply.
#[derive(Debug)]
pub struct Played {
    /// The text received.
    pub text: String,
    /// The `Done` event, when the reply completed.
    pub done: Option<ReplyEvent>,
    /// Whether Ctrl-C stopped it.
    pub interrupted: bool,
}

/// Resolves on Ctrl-C when `enabled`, else never.
async fn interrupt(enabled: bool) {
    if enabled && tokio::signal::ctrl_c().await.is_ok() {
        return;
    }
    std::future::pending::<()>().await;
}

/// Starts the reply with `start` and plays it.
pub async fn play(start: impl Future<Output = Result<ReplyStream>>, show: Show) -> Result<Played> {
    let mut ctrl_c = pin!(interrupt(show.interruptible));
    let mut spinner = Spinner::new(show.spinner);
    let mut tick = tokio::time::interval(Duration::from_millis(80));
    let mut start = pin!(start);
    let mut played = Played {
        text: String::new(),
        done: None,
        interrupted: false,
    };
    let stream = loop {
        tokio::select! {
            biased;
            () = &mut ctrl_c => {
                spinner.stop();
                played.interrupted = true;
                return Ok(played);
            }
            started = &mut start => {
                if started.is_err() {
                    spinner.stop();
                }
                break started?;
            }
            _ = tick.tick(), if spinner.active() => spinner.tick(),
        }
    };
    let mut stream = pin!(stream);
    loop {
        tokio::select! {
            biased;
            () = &mut ctrl_c => {
                spinner.stop();
                played.interrupted = true;
                return Ok(played);
            }
            event = stream.next() => {
                spinner.stop();
                match event {
                    Some(Ok(ReplyEvent::Delta(text))) => {
                        if show.echo {
                            out::print(&text);
                        }
                        played.text.push_str(&text);
                    }
                    Some(Ok(done)) => {
                        played.done = Some(done);
                        return Ok(played);
                    }
                    Some(Err(error)) => return Err(error),
                    None => return Ok(played),
                }
            }
            _ = tick.tick(), if spinner.active() => spinner.tick(),
        }
    }
}
