//! What the engine's actions take and give back.

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::{
    CharacterCard, Conversation, ConversationId, Message, Persona, Result, StopReason, Usage,
};

/// Where a new conversation's persona comes from.
#[derive(Debug, Clone)]
pub enum PersonaSource {
    /// Extract it from a free-text request ("Sherlock Holmes").
    Request(String),
    /// Use this persona as it is (a persona from an earlier extraction).
    Persona(Box<Persona>),
    /// Use the persona of this character card; its alternate greetings become versions of the
    /// greeting.
    Card(Box<CharacterCard>),
}

/// A conversation with its messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationDetail {
    /// The conversation.
    pub conversation: Conversation,
    /// Its messages, oldest first; the first is the character's greeting.
    pub messages: Vec<Message>,
}

/// The character's reply to one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The stored reply.
    pub message: Message,
    /// Why the reply ended.
    pub stop_reason: StopReason,
    /// Token counts, if the provider reported them.
    pub usage: Option<Usage>,
}

/// The outcome of the seed's single chat endpoint (see [`Link::chat`](crate::Link::chat)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatOutcome {
    /// The character's words: a greeting for a new character, else the reply.
    pub completion: String,
    /// The conversation it happened in (new when a character was created).
    pub conversation_id: ConversationId,
    /// The character.
    pub persona: Persona,
}

/// One event of a streamed turn ([`Link::send_stream`](crate::Link::send_stream)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TurnEvent {
    /// More reply text.
    Delta {
        /// The new text.
        text: String,
    },
    /// The reply is complete and stored; always the last event of a successful turn.
    Done {
        /// The stored reply.
        message: Message,
        /// Why the reply ended.
        stop_reason: StopReason,
        /// Token counts, if the provider reported them.
        usage: Option<Usage>,
    },
}

/// A streamed turn. Dropping it cancels the model call; the partial reply is still stored and
/// the action is audited as cancelled.
pub type TurnStream = BoxStream<'static, Result<TurnEvent>>;
