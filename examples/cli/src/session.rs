//! The interactive chat: line editing and history (rustyline), streamed replies, and the
//! `/commands` of [`crate::slash`] (the chat controls in [`controls`]).

mod controls;
mod memory;

use std::path::PathBuf;

use link::{Error, Persona, Result};
use link_wire::ConversationBody;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::backend::{Backend, ReplyEvent, ReplyStream};
use crate::reply::{self, Show};
use crate::slash::{self, Input};
use crate::style::Style;
use crate::{out, show};

/// How many earlier messages are shown when a conversation is resumed.
const RECAP: usize = 6;

/// The conversation being had.
#[derive(Debug, Clone)]
struct Current {
    id: String,
    persona: Persona,
}

/// What the loop does after a line.
enum Flow {
    Continue,
    Quit,
}

/// An interactive chat.
pub struct Session<'a> {
    backend: &'a dyn Backend,
    style: Style,
    current: Option<Current>,
    /// Ids from the last `/list`, so `/resume 2` works.
    listed: Vec<String>,
    history: PathBuf,
}

impl<'a> Session<'a> {
    /// A session keeping its line history in `history`.
    pub fn new(backend: &'a dyn Backend, style: Style, history: PathBuf) -> Self {
        Self {
            backend,
            style,
            current: None,
            listed: Vec::new(),
            history,
        }
    }

    /// Starts with a new character, or resumes a conversation, or neither; then reads lines
    /// until Ctrl-D or `/quit`.
    pub async fn run(mut self, character: Option<&str>, conversation: Option<&str>) -> Result<()> {
        if let Some(character) = character {
            self.start(character).await?;
        } else if let Some(id) = conversation {
            self.resume(id).await?;
        } else {
            out::line(&self.style.dim(
                "No conversation yet: /new <character> starts one, /list shows yours, /help helps.",
            ));
        }
        let mut editor = DefaultEditor::new().map_err(|e| terminal_error(&e))?;
        // A missing history file is the normal first run.
        let _ = editor.load_history(&self.history);
        loop {
            let read = tokio::task::block_in_place(|| editor.readline("you> "));
            match read {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                        self.save_history(&mut editor);
                    }
                    if let Flow::Quit = self.handle(&line).await {
                        break;
                    }
                }
                Err(ReadlineError::Interrupted) => {
                    out::line(&self.style.dim("(Ctrl-D or /quit leaves)"));
                }
                Err(ReadlineError::Eof) => break,
                Err(error) => return Err(terminal_error(&error)),
            }
        }
        self.save_history(&mut editor);
        Ok(())
    }

    fn save_history(&self, editor: &mut DefaultEditor) {
        if let Some(dir) = self.history.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(error) = editor.save_history(&self.history) {
            tracing::debug!(%error, "history not saved");
        }
    }

    /// One line; failures are reported and the loop goes on.
    async fn handle(&mut self, line: &str) -> Flow {
        let result = match slash::parse(line) {
            Input::Quit => return Flow::Quit,
            Input::Empty => Ok(()),
            Input::Help => {
                out::line(slash::HELP);
                Ok(())
            }
            Input::Say(text) => self.say(&text).await,
            Input::New(character) => self.start(&character).await,
            Input::List => self.list().await,
            Input::Resume(which) => self.resume(&which).await,
            Input::Persona => self.persona(),
            Input::Export(file) => self.export(&file).await,
            Input::Regen => self.regen().await,
            Input::Alt(pick) => self.alt(pick).await,
            Input::Edit(text) => self.edit(&text).await,
            Input::Undo(turns) => self.undo(turns).await,
            Input::Fork => self.fork().await,
            Input::Me(me) => self.me(me).await,
            Input::Memory(memory) => self.memory(memory).await,
            Input::Missing(usage) | Input::Bad(usage) => {
                Err(Error::invalid(format!("usage: {usage}")))
            }
            Input::Unknown(name) => Err(Error::invalid(format!(
                "unknown command /{name}; /help lists them"
            ))),
        };
        if let Err(error) = result {
            out::line(&self.style.error(&crate::describe(&error)));
        }
        Flow::Continue
    }

    fn current(&self) -> Result<&Current> {
        self.current
            .as_ref()
            .ok_or_else(|| Error::invalid("no conversation yet: /new <character> or /resume <id>"))
    }

    async fn start(&mut self, character: &str) -> Result<()> {
        out::line(&self.style.dim(&format!("Finding {character}...")));
        let body = self.backend.create(character).await?;
        self.enter(&body, 1);
        Ok(())
    }

    async fn resume(&mut self, which: &str) -> Result<()> {
        let id = self.resolve(which).await?;
        let body = self.backend.get(&id).await?;
        self.enter(&body, RECAP);
        Ok(())
    }

    /// Makes `body` current and shows its last `recap` messages.
    fn enter(&mut self, body: &ConversationBody, recap: usize) {
        let name = &body.persona.name;
        out::line(&self.style.dim(&format!("conversation {}", body.id)));
        let skip = body.messages.len().saturating_sub(recap);
        for message in &body.messages[skip..] {
            out::line(&show::message(self.style, name, message));
        }
        self.current = Some(Current {
            id: body.id.clone(),
            persona: body.persona.clone(),
        });
    }

    /// A number from the last `/list`, a full id, or a unique id prefix.
    async fn resolve(&mut self, which: &str) -> Result<String> {
        if let Ok(n) = which.parse::<usize>()
            && let Some(id) = n.checked_sub(1).and_then(|i| self.listed.get(i))
        {
            return Ok(id.clone());
        }
        let list = self.backend.list().await?.conversations;
        let matches: Vec<_> = list.iter().filter(|c| c.id.starts_with(which)).collect();
        match matches.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(Error::NotFound {
                what: format!("conversation {which}"),
            }),
            _ => Err(Error::invalid(format!(
                "{which} matches several conversations"
            ))),
        }
    }

    async fn say(&mut self, text: &str) -> Result<()> {
        let current = self.current()?.clone();
        let start = self.backend.send_stream(&current.id, text);
        self.play(&current, start, "(stopped; the part already said is kept)")
            .await
    }

    /// Streams a reply after the character's name, then which version it is when there are
    /// several; Ctrl-C stops it and prints `stopped`, which says what became of the reply.
    async fn play(
        &self,
        current: &Current,
        start: impl Future<Output = Result<ReplyStream>>,
        stopped: &str,
    ) -> Result<()> {
        out::print(&self.style.name(&format!("{}: ", current.persona.name)));
        let show = Show {
            echo: true,
            spinner: self.style.spinner(),
            interruptible: true,
        };
        let played = reply::play(start, show).await;
        if let Ok(reply::Played {
            done: Some(ReplyEvent::Done(done)),
            ..
        }) = &played
            // A server older than the chat controls sends no stored message: no version.
            && let Some(message) = &done.message
            && let Some(version) = show::version(self.style, message)
        {
            out::print(&format!(" {version}"));
        }
        out::line("");
        if played?.interrupted {
            out::line(&self.style.dim(stopped));
        }
        Ok(())
    }

    async fn list(&mut self) -> Result<()> {
        let list = self.backend.list().await?.conversations;
        out::line(&show::conversations(self.style, &list));
        self.listed = list.into_iter().map(|c| c.id).collect();
        Ok(())
    }

    fn persona(&self) -> Result<()> {
        out::line(&show::persona(self.style, &self.current()?.persona));
        Ok(())
    }

    async fn export(&self, file: &str) -> Result<()> {
        let path = std::path::Path::new(file);
        let format = crate::cards::Format::of_path(path);
        let current = self.current()?;
        crate::cards::export(self.backend, &current.id, &current.persona, format, path).await?;
        out::line(&self.style.dim(&format!("saved {file}")));
        Ok(())
    }
}

fn terminal_error(error: &ReadlineError) -> Error {
    Error::Config {
        message: format!("terminal: {error}"),
    }
}
