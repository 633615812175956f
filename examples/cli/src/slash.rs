//! What a line typed in the chat means: a message, or a `/command`.

/// One line of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Say this to the character.
    Say(String),
    /// Nothing typed.
    Empty,
    /// `/quit` (also `/exit`).
    Quit,
    /// `/help`.
    Help,
    /// `/new <character>`.
    New(String),
    /// `/list`.
    List,
    /// `/resume <id, id prefix or number from /list>`.
    Resume(String),
    /// `/persona`.
    Persona,
    /// `/export <file>`.
    Export(String),
    /// `/regen`: a new version of the last reply.
    Regen,
    /// `/alt [n|next|prev]`: show another version of the last reply.
    Alt(Pick),
    /// `/edit <text>`: rewrite your last message and have it answered again.
    Edit(String),
    /// `/undo [n]`: remove the last `n` turns.
    Undo(usize),
    /// `/fork`: continue in a copy of the conversation.
    Fork,
    /// `/me [name — description | clear]`.
    Me(Me),
    /// `/memory [edit <text> | clear | pin <fact> | unpin <n>]`.
    Memory(Memory),
    /// A command's argument is not what it takes.
    Bad(&'static str),
    /// A command that needs an argument was given none.
    Missing(&'static str),
    /// An unknown `/command`.
    Unknown(String),
}

/// Which version of the last reply `/alt` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The one after the chosen one (the first after the last).
    Next,
    /// The one before the chosen one (the last before the first).
    Prev,
    /// Version `n`, counted from 1 as `(n/count)` shows it.
    Number(usize),
}

/// What `/me` does with the user persona (who you are to the characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Me {
    /// Show it.
    Show,
    /// Remove it.
    Clear,
    /// Set it.
    Set {
        /// What the characters call you.
        name: String,
        /// What they know about you (may be empty).
        description: String,
    },
}

/// What `/memory` does with what the character remembers of this conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Memory {
    /// Show the summary and the pinned facts.
    Show,
    /// Replace the summary with this text.
    Edit(String),
    /// Empty the summary.
    Clear,
    /// Pin this fact.
    Pin(String),
    /// Unpin fact `n`, counted from 1 as `/memory` shows them.
    Unpin(usize),
}

/// The help text for the chat loop.
pub const HELP: &str = "\
Commands:
  /new <character>   start a conversation with someone else
  /list              your conversations
  /resume <id|n>     continue a conversation (id, id prefix, or number from /list)
  /persona           show the character's card
  /export <file>     save the character's card: a PNG image for .png, else V2 JSON
  /regen             a new version of the last reply (the earlier ones stay)
  /alt [n|next|prev] show another version of the last reply (default next)
  /edit <text>       rewrite your last message and have it answered again
                     (only the last one: /undo n first to change an older one)
  /undo [n]          remove the last n turns (default 1)
  /fork              continue in a copy of this conversation (the original stays)
  /me [name — about] who you are to the characters; /me alone shows it, /me clear removes it
  /memory            what the character remembers of earlier turns, and your pinned facts
  /memory edit <text>  replace what it remembers; /memory clear empties it
  /memory pin <fact> a fact always in the character's mind; /memory unpin <n> removes one
  /help              this help
  /quit              leave (or Ctrl-D)
Ctrl-C stops a reply; the part already said is kept.";

/// Reads one line. A line starting with `//` sends the text after the first `/`.
pub fn parse(line: &str) -> Input {
    let line = line.trim();
    if line.is_empty() {
        return Input::Empty;
    }
    if let Some(escaped) = line.strip_prefix("//") {
        return Input::Say(format!("/{escaped}"));
    }
    let Some(command) = line.strip_prefix('/') else {
        return Input::Say(line.to_owned());
    };
    let (name, rest) = command
        .split_once(char::is_whitespace)
        .map_or((command, ""), |(n, r)| (n, r.trim()));
    let with_arg = |make: fn(String) -> Input, usage: &'static str| {
        if rest.is_empty() {
            Input::Missing(usage)
        } else {
            make(rest.to_owned())
        }
    };
    match name {
        "quit" | "exit" | "q" => Input::Quit,
        "help" | "?" => Input::Help,
        "list" | "ls" => Input::List,
        "persona" | "card" => Input::Persona,
        "new" => with_arg(Input::New, "/new <character>"),
        "resume" => with_arg(Input::Resume, "/resume <id|n>"),
        "export" => with_arg(Input::Export, "/export <file>"),
        "regen" | "regenerate" | "retry" => Input::Regen,
        "alt" => alt(rest),
        "edit" => with_arg(Input::Edit, "/edit <text>"),
        "undo" => undo(rest),
        "fork" => Input::Fork,
        "me" => Input::Me(me(rest)),
        "memory" | "mem" => memory(rest),
        other => Input::Unknown(other.to_owned()),
    }
}

fn alt(rest: &str) -> Input {
    match rest {
        "" | "next" | "+" => Input::Alt(Pick::Next),
        "prev" | "previous" | "-" => Input::Alt(Pick::Prev),
        n => match n.parse::<usize>() {
            Ok(n) if n > 0 => Input::Alt(Pick::Number(n)),
            _ => Input::Bad("/alt [n|next|prev], n counted from 1"),
        },
    }
}

fn memory(rest: &str) -> Input {
    let (verb, text) = rest
        .split_once(char::is_whitespace)
        .map_or((rest, ""), |(v, t)| (v, t.trim()));
    match (verb, text) {
        ("", _) | ("show", "") => Input::Memory(Memory::Show),
        ("clear", "") => Input::Memory(Memory::Clear),
        ("edit", "") => Input::Missing("/memory edit <text>"),
        ("edit", text) => Input::Memory(Memory::Edit(text.to_owned())),
        ("pin", "") => Input::Missing("/memory pin <fact>"),
        ("pin", fact) => Input::Memory(Memory::Pin(fact.to_owned())),
        ("unpin", n) => match n.parse::<usize>() {
            Ok(n) if n > 0 => Input::Memory(Memory::Unpin(n)),
            _ => Input::Bad("/memory unpin <n>, n counted from 1 as /memory shows them"),
        },
        _ => Input::Bad("/memory [edit <text> | clear | pin <fact> | unpin <n>]"),
    }
}

fn undo(rest: &str) -> Input {
    if rest.is_empty() {
        return Input::Undo(1);
    }
    match rest.parse::<usize>() {
        Ok(n) if n > 0 => Input::Undo(n),
        _ => Input::Bad("/undo [n], n a number of turns from 1"),
    }
}

/// `name — description`: an em dash, or a hyphen or two between spaces, separates them
/// (a hyphen inside a name such as Jean-Luc does not).
fn me(rest: &str) -> Me {
    if rest.is_empty() {
        return Me::Show;
    }
    if rest == "clear" {
        return Me::Clear;
    }
    // The first separator splits: the description may hold dashes of its own.
    let split = ["—", " -- ", " - "]
        .iter()
        .filter_map(|dash| rest.find(dash).map(|at| (at, dash.len())))
        .min();
    let (name, description) =
        split.map_or((rest, ""), |(at, len)| (&rest[..at], &rest[at + len..]));
    Me::Set {
        name: name.trim().to_owned(),
        description: description.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_commands() {
        assert_eq!(parse("  hello there "), Input::Say("hello there".into()));
        assert_eq!(parse(""), Input::Empty);
        assert_eq!(parse("/quit"), Input::Quit);
        assert_eq!(
            parse("/new  Ada Lovelace "),
            Input::New("Ada Lovelace".into())
        );
        assert_eq!(parse("/resume 3"), Input::Resume("3".into()));
        assert_eq!(
            parse("/export card.json"),
            Input::Export("card.json".into())
        );
        assert_eq!(parse("/persona"), Input::Persona);
        assert_eq!(parse("/memory"), Input::Memory(Memory::Show));
        assert_eq!(
            parse("/memory edit  Sam has a cat. "),
            Input::Memory(Memory::Edit("Sam has a cat.".into()))
        );
        assert_eq!(parse("/memory edit"), Input::Missing("/memory edit <text>"));
        assert_eq!(parse("/memory clear"), Input::Memory(Memory::Clear));
        assert_eq!(
            parse("/memory pin The user is Sam"),
            Input::Memory(Memory::Pin("The user is Sam".into()))
        );
        assert_eq!(parse("/memory unpin 2"), Input::Memory(Memory::Unpin(2)));
        assert!(matches!(parse("/memory unpin x"), Input::Bad(_)));
        assert!(matches!(parse("/memory forget"), Input::Bad(_)));
        assert_eq!(parse("/list"), Input::List);
        assert_eq!(parse("/help"), Input::Help);
    }

    #[test]
    fn bad_commands_are_named() {
        assert_eq!(parse("/new"), Input::Missing("/new <character>"));
        assert_eq!(parse("/export   "), Input::Missing("/export <file>"));
        assert_eq!(parse("/frobnicate x"), Input::Unknown("frobnicate".into()));
        assert_eq!(parse("//slash"), Input::Say("/slash".into()));
        assert_eq!(parse("/edit"), Input::Missing("/edit <text>"));
        assert!(matches!(parse("/undo 0"), Input::Bad(_)));
        assert!(matches!(parse("/undo two"), Input::Bad(_)));
        assert!(matches!(parse("/alt 0"), Input::Bad(_)));
        assert!(matches!(parse("/alt sideways"), Input::Bad(_)));
    }

    #[test]
    fn the_chat_controls() {
        assert_eq!(parse("/regen"), Input::Regen);
        assert_eq!(parse("/alt"), Input::Alt(Pick::Next));
        assert_eq!(parse("/alt prev"), Input::Alt(Pick::Prev));
        assert_eq!(parse("/alt 2"), Input::Alt(Pick::Number(2)));
        assert_eq!(
            parse("/edit  I meant Paris "),
            Input::Edit("I meant Paris".into())
        );
        assert_eq!(parse("/undo"), Input::Undo(1));
        assert_eq!(parse("/undo 3"), Input::Undo(3));
        assert_eq!(parse("/fork"), Input::Fork);
    }

    #[test]
    fn me_shows_clears_or_sets_a_name_and_a_description() {
        assert_eq!(parse("/me"), Input::Me(Me::Show));
        assert_eq!(parse("/me clear"), Input::Me(Me::Clear));
        let set = |name: &str, description: &str| {
            Input::Me(Me::Set {
                name: name.into(),
                description: description.into(),
            })
        };
        assert_eq!(
            parse("/me Watson — an army doctor"),
            set("Watson", "an army doctor")
        );
        assert_eq!(parse("/me Watson - a doctor"), set("Watson", "a doctor"));
        assert_eq!(parse("/me Jean-Luc"), set("Jean-Luc", ""));
        assert_eq!(
            parse("/me Jean-Luc -- a captain - retired"),
            set("Jean-Luc", "a captain - retired")
        );
    }
}
