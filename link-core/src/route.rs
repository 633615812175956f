//! The seed's router: a message either asks for a (new) character or talks to the current one.

use crate::ConversationId;

/// Where a free-form chat message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// To the persona extractor: start a conversation with the character described.
    NewCharacter {
        /// The character request, e.g. `"Sherlock Holmes"`.
        request: String,
    },
    /// To the chat model, in this conversation.
    Chat {
        /// The conversation to continue.
        conversation_id: ConversationId,
    },
}

/// Phrases that ask to switch character, checked case-insensitively at the start of a message.
const SWITCH_PREFIXES: &[&str] = &[
    "/new ",
    "new character:",
    "new character ",
    "new persona:",
    "switch to ",
    "switch character to ",
    "change character to ",
    "i want to talk to ",
    "i want to talk with ",
    "i want to speak to ",
    "i want to speak with ",
    "i want to chat with ",
    "i'd like to talk to ",
    "i'd like to talk with ",
    "i'd like to speak to ",
    "i'd like to speak with ",
    "i'd like to chat with ",
    "let me talk to ",
    "let me talk with ",
    "let me speak to ",
    "let me speak with ",
    "can i talk to ",
    "can i speak to ",
    "can i speak with ",
    "talk to ",
    "speak with ",
    "chat with ",
];

/// Words after a switch phrase that mean the user is talking to the current character.
const NOT_A_CHARACTER: &[&str] = &["me", "you", "yourself", "us", "him", "her", "them", "it"];

/// Decides where `prompt` goes.
///
/// Without a conversation every message asks for a character. With one, only an explicit
/// request for another character ("switch to Ada Lovelace", "/new a grumpy pirate") leaves it.
///
/// ```
/// use link_core::{route, ConversationId, Route};
/// let id = ConversationId::new();
/// assert_eq!(route("Sherlock Holmes", None), Route::NewCharacter { request: "Sherlock Holmes".into() });
/// assert_eq!(route("Switch to Ada Lovelace!", Some(id)), Route::NewCharacter { request: "Ada Lovelace".into() });
/// assert_eq!(route("talk to me about crime", Some(id)), Route::Chat { conversation_id: id });
/// ```
pub fn route(prompt: &str, conversation: Option<ConversationId>) -> Route {
    let Some(conversation_id) = conversation else {
        let request = switch_request(prompt).unwrap_or_else(|| prompt.trim().to_owned());
        return Route::NewCharacter { request };
    };
    match switch_request(prompt) {
        Some(request) => Route::NewCharacter { request },
        None => Route::Chat { conversation_id },
    }
}

/// The character named by an explicit switch phrase, if `prompt` is one.
fn switch_request(prompt: &str) -> Option<String> {
    let trimmed = prompt.trim();
    let lower = trimmed.to_lowercase();
    let prefix = SWITCH_PREFIXES.iter().find(|p| lower.starts_with(*p))?;
    // Prefixes are ASCII, so the byte offset is the same in the original text.
    let rest = trimmed.get(prefix.len()..)?;
    let rest = rest.trim().trim_end_matches(['.', '!', '?']).trim();
    let first_word = rest.split_whitespace().next()?.to_lowercase();
    if NOT_A_CHARACTER.contains(&first_word.as_str()) {
        return None;
    }
    Some(rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ongoing_chat_stays_unless_switch_is_explicit() {
        let id = ConversationId::new();
        for text in [
            "What is your favourite case?",
            "chat with you later",
            "Talk to me!",
        ] {
            assert_eq!(
                route(text, Some(id)),
                Route::Chat {
                    conversation_id: id
                },
                "{text}"
            );
        }
        assert_eq!(
            route("/new a grumpy pirate who loves cats", Some(id)),
            Route::NewCharacter {
                request: "a grumpy pirate who loves cats".into()
            }
        );
        assert_eq!(
            route("I'd like to speak with Napoléon?", Some(id)),
            Route::NewCharacter {
                request: "Napoléon".into()
            }
        );
    }

    #[test]
    fn without_conversation_everything_is_a_character_request() {
        assert_eq!(
            route("  I want to talk to Ada Lovelace. ", None),
            Route::NewCharacter {
                request: "Ada Lovelace".into()
            }
        );
        assert_eq!(
            route("a grumpy pirate", None),
            Route::NewCharacter {
                request: "a grumpy pirate".into()
            }
        );
    }
}
