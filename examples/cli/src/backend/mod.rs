//! Where the engine runs: in this process ([`local::LocalBackend`]) or behind a running
//! link-server ([`remote::RemoteBackend`]). Both answer with the server's wire shapes
//! (`link_wire`), so `--json` prints the same thing either way.

pub mod local;
pub mod remote;
mod sse;

use async_trait::async_trait;
use futures::stream::BoxStream;
use link::{Persona, Result};
use link_wire::{
    ApiKeyList, ConversationBody, ConversationList, ConversationSummary, CreatedApiKey, DoneEvent,
    MessageBody, UpdateConversation, UserPersonaBody,
};

/// One event of a streamed reply: the same whether the engine runs here or behind a server.
#[derive(Debug)]
pub enum ReplyEvent {
    /// More reply text.
    Delta(String),
    /// The reply is complete and stored (the SSE `done` event's data).
    Done(DoneEvent),
}

/// A streamed reply; dropping it stops the reply (the partial text is kept).
pub type ReplyStream = BoxStream<'static, Result<ReplyEvent>>;

/// What the CLI asks of the engine.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Extracts a persona without starting a conversation.
    async fn extract_persona(&self, request: &str) -> Result<Persona>;
    /// Starts a conversation with the character `request` names; it holds the greeting.
    async fn create(&self, request: &str) -> Result<ConversationBody>;
    /// Starts a conversation from a character card file's bytes (V2/V3 JSON, PNG or CharX),
    /// keeping its picture as the conversation's avatar.
    async fn import_card(&self, card: Vec<u8>) -> Result<ConversationBody>;
    /// The first page of the user's conversations, most recent first.
    async fn list(&self) -> Result<ConversationList>;
    /// One conversation with its messages.
    async fn get(&self, id: &str) -> Result<ConversationBody>;
    /// The conversation's avatar (a PNG image), or `None` when it has none.
    async fn avatar(&self, id: &str) -> Result<Option<Vec<u8>>>;
    /// Sends a message and streams the reply.
    async fn send_stream(&self, id: &str, text: &str) -> Result<ReplyStream>;
    /// Streams a new version of the last reply (the earlier versions stay as alternatives);
    /// dropping the stream changes nothing.
    async fn regenerate_stream(&self, id: &str) -> Result<ReplyStream>;
    /// Replaces the text of the user's message `message` and streams the new reply to it;
    /// the messages after it go when the reply is stored (dropping the stream changes nothing).
    async fn resend_stream(&self, id: &str, message: &str, text: &str) -> Result<ReplyStream>;
    /// Makes version `index` (0 is the oldest) of `message` the one shown and prompted with.
    async fn choose(&self, id: &str, message: &str, index: usize) -> Result<MessageBody>;
    /// Removes the newest `turns` turns; gives how many messages went.
    async fn rewind(&self, id: &str, turns: usize) -> Result<usize>;
    /// A copy of the whole conversation, with its origin.
    async fn fork(&self, id: &str) -> Result<ConversationBody>;
    /// Changes a conversation's settings or memory (its summary, its pinned facts); gives it
    /// as stored.
    async fn update(&self, id: &str, change: UpdateConversation) -> Result<ConversationSummary>;
    /// Who the user is to the characters by default, if set.
    async fn user_persona(&self) -> Result<Option<UserPersonaBody>>;
    /// Sets (or with `None`, clears) the default user persona; gives it as stored.
    async fn set_user_persona(
        &self,
        persona: Option<UserPersonaBody>,
    ) -> Result<Option<UserPersonaBody>>;
    /// Makes an API key named `name` (for OpenAI-compatible chat clients); the key itself
    /// is in the answer and nowhere else.
    async fn create_key(&self, name: &str) -> Result<CreatedApiKey>;
    /// The user's API keys (names and hints, never the keys).
    async fn keys(&self) -> Result<ApiKeyList>;
    /// Revokes the user's API key `id`.
    async fn revoke_key(&self, id: &str) -> Result<()>;
}
