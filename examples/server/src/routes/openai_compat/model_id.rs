//! Which conversation a model name names, and in which mode the turn runs.

use std::str::FromStr;

use axum::http::HeaderMap;
use link::ConversationId;

/// The request header that chooses the mode when the model name does not.
pub const MODE_HEADER: &str = "x-link-mode";

/// What a model name starts with.
const PREFIX: &str = "link/";

/// How a chat completion uses the conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Link's history and memory are the context; only the client's last user message is
    /// new, and the turn is stored in the conversation.
    #[default]
    Stored,
    /// The client's messages are the history; nothing is stored.
    Stateless,
}

impl Mode {
    /// The mode's name, as in a model suffix and the header.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Stored => "stored",
            Mode::Stateless => "stateless",
        }
    }
}

impl FromStr for Mode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim().to_ascii_lowercase().as_str() {
            "stored" => Ok(Mode::Stored),
            "stateless" => Ok(Mode::Stateless),
            _ => Err(()),
        }
    }
}

/// A model name taken apart: `link/<conversation id>` with an optional `:stored` or
/// `:stateless` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelId {
    /// The conversation.
    pub conversation: ConversationId,
    /// The mode the name asks for, if it does.
    pub mode: Option<Mode>,
}

impl ModelId {
    /// The name of conversation `id` as a model.
    pub fn name(id: ConversationId) -> String {
        format!("{PREFIX}{id}")
    }

    /// Parses a model name; `None` when it names no conversation.
    pub fn parse(model: &str) -> Option<Self> {
        let rest = model.strip_prefix(PREFIX)?;
        let (id, mode) = match rest.split_once(':') {
            Some((id, mode)) => (id, Some(mode.parse().ok()?)),
            None => (rest, None),
        };
        Some(Self {
            conversation: id.parse().ok()?,
            mode,
        })
    }

    /// The mode of the turn: the name's suffix, else the header's, else `default`. A header
    /// that names no mode is `Err` with its value.
    pub fn mode(&self, headers: &HeaderMap, default: Mode) -> Result<Mode, String> {
        if let Some(mode) = self.mode {
            return Ok(mode);
        }
        match headers.get(MODE_HEADER) {
            None => Ok(default),
            Some(value) => {
                let value = value.to_str().unwrap_or_default();
                value.parse().map_err(|()| value.to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_with_and_without_a_mode() {
        let id = ConversationId::new();
        let plain = ModelId::parse(&ModelId::name(id)).unwrap();
        assert_eq!((plain.conversation, plain.mode), (id, None));
        let stateless = ModelId::parse(&format!("link/{id}:stateless")).unwrap();
        assert_eq!(stateless.mode, Some(Mode::Stateless));
        assert_eq!(ModelId::parse(&format!("link/{id}:other")), None);
        assert_eq!(ModelId::parse("gpt-4o-mini"), None);
        assert_eq!(ModelId::parse("link/not-a-uuid"), None);
    }

    #[test]
    fn the_suffix_wins_over_the_header_which_wins_over_the_default() {
        let id = ConversationId::new();
        let mut headers = HeaderMap::new();
        let plain = ModelId::parse(&ModelId::name(id)).unwrap();
        assert_eq!(plain.mode(&headers, Mode::Stored), Ok(Mode::Stored));
        headers.insert(MODE_HEADER, "Stateless".parse().unwrap());
        assert_eq!(plain.mode(&headers, Mode::Stored), Ok(Mode::Stateless));
        let stored = ModelId::parse(&format!("link/{id}:stored")).unwrap();
        assert_eq!(stored.mode(&headers, Mode::Stateless), Ok(Mode::Stored));
        headers.insert(MODE_HEADER, "later".parse().unwrap());
        assert_eq!(plain.mode(&headers, Mode::Stored), Err("later".to_owned()));
    }
}
