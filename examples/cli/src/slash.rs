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
    /// A command that needs an argument was given none.
    Missing(&'static str),
    /// An unknown `/command`.
    Unknown(String),
}

/// The help text for the chat loop.
pub const HELP: &str = "\
Commands:
  /new <character>   start a conversation with someone else
  /list              your conversations
  /resume <id|n>     continue a conversation (id, id prefix, or number from /list)
  /persona           show the character's card
  /export <file>     save the character as Character Card V2 JSON
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
        other => Input::Unknown(other.to_owned()),
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
        assert_eq!(parse("/list"), Input::List);
        assert_eq!(parse("/help"), Input::Help);
    }

    #[test]
    fn bad_commands_are_named() {
        assert_eq!(parse("/new"), Input::Missing("/new <character>"));
        assert_eq!(parse("/export   "), Input::Missing("/export <file>"));
        assert_eq!(parse("/frobnicate x"), Input::Unknown("frobnicate".into()));
        assert_eq!(parse("//slash"), Input::Say("/slash".into()));
    }
}
