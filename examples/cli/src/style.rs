//! Colour, only on a terminal and never when `NO_COLOR` is set (<https://no-color.org>).

use std::io::IsTerminal;

/// How text is dressed for stdout.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    colour: bool,
    terminal: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    pub fn detect() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let terminal = std::io::stdout().is_terminal();
        Self {
            colour: terminal && !no_color,
            terminal,
        }
    }

    /// Colour on or off, as if not on a terminal.
    #[cfg(test)]
    pub fn new(colour: bool) -> Self {
        Self {
            colour,
            terminal: false,
        }
    }

    /// Whether to animate a spinner (stdout is a terminal; `NO_COLOR` does not matter).
    pub fn spinner(self) -> bool {
        self.terminal
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// A character's name.
    pub fn name(self, text: &str) -> String {
        self.paint("1;36", text)
    }

    /// Secondary text: hints, ids, dates.
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// A problem.
    pub fn error(self, text: &str) -> String {
        self.paint("1;31", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_without_colour() {
        assert_eq!(Style::new(false).name("Ada"), "Ada");
        assert_eq!(Style::new(true).name("Ada"), "\x1b[1;36mAda\x1b[0m");
    }
}
