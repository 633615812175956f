//! The chat controls: `/regen`, `/alt`, `/edit`, `/undo`, `/fork` and `/me`.
//!
//! Each reads the conversation as it is stored (another window may have changed it) and
//! acts on its newest messages; the engine refuses a change based on a stale read with a
//! conflict, which `crate::describe` turns into "try again".

use link::{Error, Result};
use link_wire::{MessageBody, UserPersonaBody};

use super::{Current, Session};
use crate::out;
use crate::show;
use crate::slash::{Me, Pick};

/// What a stopped `/regen` or `/edit` leaves: the engine stores their reply only when whole.
const NOTHING_CHANGED: &str = "(stopped; nothing changed)";

impl Session<'_> {
    /// `/regen`: a new version of the last reply, streamed, then `(n/n)`.
    pub(super) async fn regen(&mut self) -> Result<()> {
        let current = self.current()?.clone();
        let start = self.backend.regenerate_stream(&current.id);
        self.play(&current, start, NOTHING_CHANGED).await
    }

    /// `/alt`: makes another version of the last reply the one shown, and prints it.
    pub(super) async fn alt(&mut self, pick: Pick) -> Result<()> {
        let current = self.current()?.clone();
        let body = self.backend.get(&current.id).await?;
        let reply = body
            .messages
            .last()
            .filter(|m| m.role == "assistant")
            .ok_or_else(|| Error::invalid("the last message is yours: /regen has it answered"))?;
        let index = picked(reply, pick)?;
        let chosen = self.backend.choose(&current.id, &reply.id, index).await?;
        out::line(&show::message(self.style, &current.persona.name, &chosen));
        Ok(())
    }

    /// `/edit`: replaces the text of the user's newest message and streams the new reply
    /// (what came after that message goes). Older messages are out of reach on purpose: the
    /// turns after them would go too, which `/undo n` makes explicit.
    pub(super) async fn edit(&mut self, text: &str) -> Result<()> {
        let current = self.current()?.clone();
        let body = self.backend.get(&current.id).await?;
        let mine = body
            .messages
            .iter()
            .rfind(|m| m.role == "user")
            .ok_or_else(|| Error::invalid("nothing of yours to edit here yet"))?;
        let start = self.backend.resend_stream(&current.id, &mine.id, text);
        self.play(&current, start, NOTHING_CHANGED).await
    }

    /// `/undo n`: removes the newest `n` turns and shows the message the chat is back at.
    pub(super) async fn undo(&mut self, turns: usize) -> Result<()> {
        let current = self.current()?.clone();
        let removed = self.backend.rewind(&current.id, turns).await?;
        if removed == 0 {
            out::line(&self.style.dim("nothing to undo: the greeting always stays"));
            return Ok(());
        }
        let plural = if removed == 1 { "" } else { "s" };
        out::line(
            &self
                .style
                .dim(&format!("(removed {removed} message{plural})")),
        );
        let body = self.backend.get(&current.id).await?;
        if let Some(last) = body.messages.last() {
            out::line(&show::message(self.style, &current.persona.name, last));
        }
        Ok(())
    }

    /// `/fork`: continues in a copy of the whole conversation; the original stays.
    pub(super) async fn fork(&mut self) -> Result<()> {
        let from = self.current()?.id.clone();
        let fork = self.backend.fork(&from).await?;
        out::line(&self.style.dim(&format!(
            "forked: conversation {} (a copy; /resume {from} goes back to the original)",
            fork.id
        )));
        self.current = Some(Current {
            id: fork.id,
            persona: fork.persona,
        });
        Ok(())
    }

    /// `/me`: shows, sets or clears who the user is to the characters (by default, in every
    /// conversation that has no user persona of its own).
    pub(super) async fn me(&mut self, me: Me) -> Result<()> {
        let persona = match me {
            Me::Show => self.backend.user_persona().await?,
            Me::Clear => {
                self.backend.set_user_persona(None).await?;
                out::line(&self.style.dim("user persona cleared"));
                return Ok(());
            }
            Me::Set { name, description } => {
                let persona = UserPersonaBody { name, description };
                self.backend.set_user_persona(Some(persona)).await?
            }
        };
        out::line(&show::user_persona(self.style, persona.as_ref()));
        Ok(())
    }
}

/// The index (from 0) of the version `pick` names among `reply`'s versions.
fn picked(reply: &MessageBody, pick: Pick) -> Result<usize> {
    let count = reply.alternatives.len();
    if count < 2 {
        return Err(Error::invalid(
            "the last reply has only one version: /regen makes another",
        ));
    }
    match pick {
        Pick::Next => Ok((reply.chosen + 1) % count),
        Pick::Prev => Ok((reply.chosen + count - 1) % count),
        Pick::Number(n) if n <= count => Ok(n - 1),
        Pick::Number(_) => Err(Error::invalid(format!(
            "the last reply has {count} versions: /alt 1 to /alt {count}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(count: usize, chosen: usize) -> MessageBody {
        MessageBody {
            id: "m1".into(),
            role: "assistant".into(),
            content: format!("v{chosen}"),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            alternatives: (0..count).map(|i| format!("v{i}")).collect(),
            chosen,
            interrupted: false,
            edited_at: None,
        }
    }

    #[test]
    fn next_and_prev_wrap_around() {
        assert_eq!(picked(&reply(3, 2), Pick::Next).unwrap(), 0);
        assert_eq!(picked(&reply(3, 0), Pick::Prev).unwrap(), 2);
        assert_eq!(picked(&reply(3, 0), Pick::Next).unwrap(), 1);
    }

    #[test]
    fn numbers_count_from_one_and_stay_in_range() {
        assert_eq!(picked(&reply(3, 0), Pick::Number(3)).unwrap(), 2);
        assert!(picked(&reply(3, 0), Pick::Number(4)).is_err());
        assert!(picked(&reply(0, 0), Pick::Next).is_err());
    }
}
