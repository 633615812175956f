//! Audit events: one per action, success or not, and the sinks that write them.
//!
//! The content policy decides whether the prompt and response text appear in full, as a
//! SHA-256 hash (so a record can be matched to a known text without storing it), or not at
//! all. Only the subject identifies the user: never an email, a token or another claim.

use std::io::Write;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{AuditSink, ConversationId, Error, RequestId, Result, Usage};

/// What the user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    /// Extracted a persona from a free-text request.
    ExtractPersona,
    /// Started a conversation.
    CreateConversation,
    /// Sent a message and got a whole reply.
    SendMessage,
    /// Sent a message and streamed the reply.
    StreamMessage,
    /// Listed their conversations.
    ListConversations,
    /// Read one conversation.
    GetConversation,
    /// Deleted a conversation.
    DeleteConversation,
    /// Asked for another version of the last reply (or a reply to a message that had none).
    RegenerateReply,
    /// Edited one of their messages and had the character answer it again.
    ResendMessage,
    /// Chose which version of a message later prompts see.
    ChooseAlternative,
    /// Edited a message, theirs or the character's.
    EditMessage,
    /// Removed the newest turns of a conversation.
    Rewind,
    /// Started a conversation from part of another.
    ForkConversation,
    /// Changed a conversation's settings (its user persona).
    UpdateConversation,
    /// Read their default user persona.
    GetUserPersona,
    /// Set or cleared their default user persona.
    SetUserPersona,
    /// Read the model tokens their conversations used in a month.
    GetTokenUsage,
    /// Made an API key.
    CreateApiKey,
    /// Listed their API keys.
    ListApiKeys,
    /// Revoked an API key.
    RevokeApiKey,
    /// A model folded turns that left the prompt's window into a conversation's memory. The
    /// engine does it after a reply is stored, not at the user's request: it is never rate
    /// limited, but its tokens count against the owner's daily quota and monthly usage.
    SummariseMemory,
}

impl AuditAction {
    /// What the action costs against the caller's rate limit, in requests: a model call uses
    /// tokens and holds the model, so it costs more than a read.
    ///
    /// | action | cost |
    /// |---|---|
    /// | extract a persona; start a conversation (from a request: an extraction) | 4 |
    /// | send a message, regenerate a reply, resend an edited message, whole or streamed (a reply); summarise a conversation's memory | 2 |
    /// | list, read, delete, edit, choose a version, rewind, fork, settings, token usage, API keys; start a conversation from a given persona (no model call) | 1 |
    ///
    /// ```
    /// use link_core::AuditAction;
    /// assert_eq!(AuditAction::ExtractPersona.cost(), 4);
    /// assert_eq!(AuditAction::StreamMessage.cost(), 2);
    /// assert_eq!(AuditAction::ListConversations.cost(), 1);
    /// ```
    pub const fn cost(self) -> u32 {
        match self {
            AuditAction::ExtractPersona | AuditAction::CreateConversation => 4,
            AuditAction::SendMessage
            | AuditAction::StreamMessage
            | AuditAction::RegenerateReply
            | AuditAction::ResendMessage
            | AuditAction::SummariseMemory => 2,
            AuditAction::ListConversations
            | AuditAction::GetConversation
            | AuditAction::DeleteConversation
            | AuditAction::ChooseAlternative
            | AuditAction::EditMessage
            | AuditAction::Rewind
            | AuditAction::ForkConversation
            | AuditAction::UpdateConversation
            | AuditAction::GetUserPersona
            | AuditAction::SetUserPersona
            | AuditAction::GetTokenUsage
            | AuditAction::CreateApiKey
            | AuditAction::ListApiKeys
            | AuditAction::RevokeApiKey => 1,
        }
    }

    /// Whether the action calls a model (and so needs tokens left under a daily token quota).
    /// Starting a conversation does when it extracts the persona from a request.
    pub const fn calls_model(self) -> bool {
        matches!(
            self,
            AuditAction::ExtractPersona
                | AuditAction::CreateConversation
                | AuditAction::SendMessage
                | AuditAction::StreamMessage
                | AuditAction::RegenerateReply
                | AuditAction::ResendMessage
                | AuditAction::SummariseMemory
        )
    }
}

/// How the action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// It succeeded.
    Ok,
    /// The rate limiter refused it: the request rate (no `error`), or a quota (`error` is
    /// `quota_exceeded`).
    RateLimited,
    /// It failed; the event's `error` holds the code.
    Error,
    /// The caller went away before it finished (e.g. dropped a stream).
    Cancelled,
}

/// One audited action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When the action started.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The request it belongs to: the id the transport generated, never one the caller chose.
    pub request_id: RequestId,
    /// The caller's own id for the request (an HTTP client's `x-request-id`), when it gave one
    /// fit to log (see [`RequestContext::with_client_request_id`](crate::RequestContext::with_client_request_id)).
    pub client_request_id: Option<String>,
    /// The user's subject.
    pub sub: String,
    /// What was done.
    pub action: AuditAction,
    /// The conversation involved, if any.
    pub conversation_id: Option<ConversationId>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// The error code when `outcome` is `error` (see [`Error::code`]).
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub latency_ms: f64,
    /// The model that served it, if one did.
    pub model: Option<String>,
    /// Token counts, if reported.
    pub usage: Option<Usage>,
    /// The length and hash of the user's input as received, for every action that takes one:
    /// also for one the limiter refused or whose input was rejected, whose text is not kept.
    pub input: Option<InputDigest>,
    /// The user's text, once it passed the rate limit and validation (subject to the sink's
    /// [`ContentPolicy`]).
    pub prompt: Option<String>,
    /// The reply text (subject to the sink's [`ContentPolicy`]).
    pub response: Option<String>,
}

/// What an audit record keeps of an input it does not keep: enough to correlate and size it,
/// nothing of its text.
///
/// ```
/// use link_core::InputDigest;
/// let digest = InputDigest::of("hi");
/// assert_eq!(digest.chars, 2);
/// assert!(digest.sha256.starts_with("8f4343"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputDigest {
    /// Its length in characters.
    pub chars: usize,
    /// The hex SHA-256 of its UTF-8 bytes.
    pub sha256: String,
}

impl InputDigest {
    /// The digest of `text`.
    pub fn of(text: &str) -> Self {
        Self {
            chars: text.chars().count(),
            sha256: hex::encode(Sha256::digest(text)),
        }
    }
}

impl AuditEvent {
    /// Sets the latency from an elapsed duration.
    pub fn with_latency(mut self, elapsed: Duration) -> Self {
        self.latency_ms = elapsed.as_secs_f64() * 1000.0;
        self
    }
}

/// What an audit record keeps of prompt and response text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentPolicy {
    /// The text as it was.
    #[default]
    Full,
    /// `sha256:<hex>` of the text.
    Hash,
    /// Nothing.
    None,
}

impl FromStr for ContentPolicy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "hash" => Ok(Self::Hash),
            "none" => Ok(Self::None),
            other => Err(Error::Config {
                message: format!("audit content policy must be full, hash or none, not {other:?}"),
            }),
        }
    }
}

impl ContentPolicy {
    /// Applies the policy to one piece of text.
    ///
    /// ```
    /// use link_core::ContentPolicy;
    /// assert_eq!(ContentPolicy::None.apply(Some("hi")), None);
    /// assert_eq!(
    ///     ContentPolicy::Hash.apply(Some("hi")).unwrap(),
    ///     "sha256:8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"
    /// );
    /// ```
    pub fn apply(self, text: Option<&str>) -> Option<String> {
        let text = text?;
        match self {
            ContentPolicy::Full => Some(text.to_owned()),
            ContentPolicy::Hash => Some(format!("sha256:{}", hex::encode(Sha256::digest(text)))),
            ContentPolicy::None => None,
        }
    }
}

/// Renders one event as the JSON text of an audit line, with the policy applied.
pub fn render(event: &AuditEvent, policy: ContentPolicy) -> Result<String> {
    let mut event = event.clone();
    event.prompt = policy.apply(event.prompt.as_deref());
    event.response = policy.apply(event.response.as_deref());
    serde_json::to_string(&event).map_err(|e| Error::Config {
        message: format!("audit event did not serialise: {e}"),
    })
}

/// The prefix of every audit line, for log filters (`AUDIT_LOG {json}`).
pub const AUDIT_PREFIX: &str = "AUDIT_LOG";

/// Writes each event as one `AUDIT_LOG {json}` line through `tracing` (target `link::audit`).
///
/// ```
/// use link_core::{ContentPolicy, TracingAuditSink};
/// let sink = TracingAuditSink::new(ContentPolicy::Hash);
/// assert_eq!(sink.policy(), ContentPolicy::Hash);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TracingAuditSink {
    policy: ContentPolicy,
}

impl TracingAuditSink {
    /// A sink applying `policy` to prompt and response text.
    pub fn new(policy: ContentPolicy) -> Self {
        Self { policy }
    }

    /// The content policy in force.
    pub fn policy(&self) -> ContentPolicy {
        self.policy
    }
}

#[async_trait]
impl AuditSink for TracingAuditSink {
    async fn record(&self, event: &AuditEvent) -> Result<()> {
        let line = render(event, self.policy)?;
        tracing::info!(target: "link::audit", "{AUDIT_PREFIX} {line}");
        Ok(())
    }
}

/// Appends each event as one `AUDIT_LOG {json}` line to any writer (a file, a buffer).
pub struct WriterAuditSink<W> {
    policy: ContentPolicy,
    writer: Mutex<W>,
}

impl<W> std::fmt::Debug for WriterAuditSink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterAuditSink")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send + 'static> WriterAuditSink<W> {
    /// A sink writing to `writer` with `policy`.
    pub fn new(writer: W, policy: ContentPolicy) -> Self {
        Self {
            policy,
            writer: Mutex::new(writer),
        }
    }

    /// Gives back the writer (e.g. a buffer in tests).
    pub fn into_inner(self) -> W {
        self.writer
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl<W: Write + Send + 'static> AuditSink for WriterAuditSink<W> {
    async fn record(&self, event: &AuditEvent) -> Result<()> {
        let line = render(event, self.policy)?;
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| Error::storage("audit writer lock poisoned"))?;
        writeln!(writer, "{AUDIT_PREFIX} {line}")
            .and_then(|()| writer.flush())
            .map_err(|e| Error::storage(format!("audit write failed: {e}")))
    }
}
