//! Reading a collected chat stream in tests.

use crate::{ChatEvent, Result};

/// The reply text of a collected stream: its deltas, joined, ignoring every other event.
///
/// ```
/// use link_core::ChatEvent;
/// use link_core::testing::text_of;
/// let events = vec![
///     Ok(ChatEvent::Delta { text: "Elemen".into() }),
///     Ok(ChatEvent::Delta { text: "tary.".into() }),
/// ];
/// assert_eq!(text_of(&events), "Elementary.");
/// ```
pub fn text_of(events: &[Result<ChatEvent>]) -> String {
    events
        .iter()
        .filter_map(|event| match event {
            Ok(ChatEvent::Delta { text }) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}
