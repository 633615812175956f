//! From the parsed command line to the work.

use std::io::IsTerminal;
use std::path::PathBuf;

use link::Config;
use link::{Error, Result};

use crate::backend::Backend;
use crate::backend::local::LocalBackend;
use crate::backend::remote::RemoteBackend;
use crate::cli::{ChatArgs, Cli, Command, Target};
use crate::session::Session;
use crate::style::Style;
use crate::{cards, oneshot, out, show};

/// Runs the command.
pub async fn run(cli: Cli) -> Result<()> {
    let style = Style::detect();
    // Decide usage questions before the (possibly slow) engine is built.
    let interactive = match &cli.command {
        Command::Chat(args) => chat_mode(args, cli.json)?,
        _ => false,
    };
    let backend = backend(&cli.target, &cli.config).await?;
    let backend = backend.as_ref();
    match cli.command {
        Command::Persona { request } => {
            let persona = backend.extract_persona(&request).await?;
            out::json(&persona);
        }
        Command::Conversations => {
            let list = backend.list().await?;
            if cli.json {
                out::json(&list);
            } else {
                out::line(&show::conversations(style, &list.conversations));
            }
        }
        Command::Import { file } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| Error::invalid(format!("cannot read {}: {e}", file.display())))?;
            let body = backend.import_card(bytes).await?;
            match cli.json {
                true => out::json(&body),
                false => out::line(&show::imported(style, &body)),
            }
        }
        Command::Export {
            conversation,
            png,
            v3,
            output,
        } => {
            let persona = backend.get(&conversation).await?.persona;
            let format = cards::Format::from_flags(png, v3);
            let path = output.unwrap_or_else(|| cards::default_path(&persona, format));
            cards::export(backend, &conversation, &persona, format, &path).await?;
            out::note(&style.dim(&format!("saved {}", path.display())));
        }
        Command::Keys(command) => crate::keys::run(backend, style, command, cli.json).await?,
        Command::Chat(args) if interactive => {
            let session = Session::new(backend, style, history_path(&cli.config));
            session
                .run(args.character.as_deref(), args.conversation.as_deref())
                .await?;
        }
        Command::Chat(args) => {
            let message = match args.message {
                Some(message) => Some(message),
                None if !std::io::stdin().is_terminal() => Some(oneshot::read_stdin().await?)
                    .filter(|m| !m.is_empty() || args.conversation.is_some()),
                None => None,
            };
            let (character, conversation) = (args.character, args.conversation);
            oneshot::run(
                backend,
                character.as_deref(),
                conversation.as_deref(),
                message,
                cli.json,
            )
            .await?;
        }
    }
    Ok(())
}

/// Interactive when there is no message to send and stdin is a terminal.
fn chat_mode(args: &ChatArgs, json: bool) -> Result<bool> {
    let interactive = args.message.is_none() && std::io::stdin().is_terminal();
    if interactive && json {
        return Err(Error::invalid(
            "--json needs a message: --message TEXT or text on stdin",
        ));
    }
    if !interactive && args.character.is_none() && args.conversation.is_none() {
        return Err(Error::invalid(
            "link chat needs a character or --conversation ID",
        ));
    }
    Ok(interactive)
}

/// The in-process engine, or the server at `--server`.
async fn backend(target: &Target, config: &Config) -> Result<Box<dyn Backend>> {
    let user = user_name(target)?;
    Ok(match &target.server {
        Some(url) => Box::new(RemoteBackend::new(url, target.token.clone(), &user).await?),
        None => Box::new(LocalBackend::new(config, &user).await?),
    })
}

/// `--user`, else `$USER`, else `local`.
fn user_name(target: &Target) -> Result<String> {
    let user = target
        .user
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "local".to_owned());
    let user = user.trim().to_owned();
    if user.is_empty() || user.chars().count() > 64 || user.chars().any(char::is_control) {
        return Err(Error::invalid(
            "--user must be 1 to 64 printable characters",
        ));
    }
    Ok(user)
}

/// Line history beside the database, in the data directory.
fn history_path(config: &Config) -> PathBuf {
    config.database_path().with_file_name("history")
}
