//! `link chat` for scripts: one message (from `--message` or stdin), one reply, exit.

use link::{Error, Result};
use link_wire::{ConversationBody, UsageBody};
use serde::Serialize;
use tokio::io::AsyncReadExt;

use crate::backend::{Backend, ReplyEvent};
use crate::out;
use crate::reply::{self, Show};

/// What `--json` prints for one turn.
#[derive(Debug, Serialize)]
struct TurnJson {
    conversation_id: String,
    /// The conversation, when this command started it.
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<ConversationBody>,
    /// The reply, absent when no message was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<ReplyJson>,
}

#[derive(Debug, Serialize)]
struct ReplyJson {
    message_id: Option<String>,
    content: String,
    stop_reason: Option<String>,
    usage: Option<UsageBody>,
}

/// The message from stdin, whole.
pub async fn read_stdin() -> Result<String> {
    let mut text = String::new();
    tokio::io::stdin()
        .read_to_string(&mut text)
        .await
        .map_err(|e| Error::invalid(format!("cannot read stdin: {e}")))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

/// Sends `message` (if any) to the conversation `id`, or to a new one with `character`.
pub async fn run(
    backend: &dyn Backend,
    character: Option<&str>,
    conversation: Option<&str>,
    message: Option<String>,
    json: bool,
) -> Result<()> {
    let (id, created) = match (conversation, character) {
        (Some(id), _) => (id.to_owned(), None),
        (None, Some(character)) => {
            let body = backend.create(character).await?;
            (body.id.clone(), Some(body))
        }
        (None, None) => {
            return Err(Error::invalid(
                "link chat needs a character or --conversation ID",
            ));
        }
    };
    if let Some(body) = created.as_ref().filter(|_| !json) {
        out::note(&format!("conversation {}", body.id));
        if message.is_none() {
            out::line(&body.persona.greeting);
        }
    }
    let reply = match message {
        Some(message) => Some(send(backend, &id, &message, json).await?),
        None => None,
    };
    if json {
        out::json(&TurnJson {
            conversation_id: id,
            created,
            reply,
        });
    }
    Ok(())
}

async fn send(backend: &dyn Backend, id: &str, message: &str, json: bool) -> Result<ReplyJson> {
    let show = Show {
        echo: !json,
        spinner: false,
        interruptible: false,
    };
    let played = reply::play(backend.send_stream(id, message), show).await?;
    if !json {
        out::line("");
    }
    let (message_id, stop_reason, usage) = match played.done {
        Some(ReplyEvent::Done(done)) => (Some(done.message_id), Some(done.stop_reason), done.usage),
        _ => (None, None, None),
    };
    Ok(ReplyJson {
        message_id,
        content: played.text,
        stop_reason,
        usage,
    })
}
