//! What a caller configures: the model, the API to call it through, and the guardrail.

use aws_sdk_bedrockruntime::types::{self as bedrock, GuardrailStreamProcessingMode};
use link_core::{Error, Result};

/// The model used when none is given: Amazon Nova Micro, as in the reference deployment.
pub const DEFAULT_MODEL: &str = "amazon.nova-micro-v1:0";

/// Which Bedrock API a [`BedrockChatModel`](crate::BedrockChatModel) calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Api {
    /// `Converse` for whole replies and `ConverseStream` for streamed ones (the default).
    #[default]
    Converse,
    /// `InvokeModel` with the Amazon Nova `messages-v1` body, as the reference deployment
    /// did. Streaming in this mode delivers the whole reply as one delta.
    InvokeModel,
}

/// How much of the guardrail's assessment Bedrock returns (`trace`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum GuardrailTrace {
    /// No trace.
    Disabled,
    /// The assessment of intervening policies (the default).
    #[default]
    Enabled,
    /// The assessment of every policy.
    EnabledFull,
}

/// When a streamed reply is checked by the guardrail (`streamProcessingMode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamMode {
    /// Each chunk is checked before it is sent: safest, a little slower (the default).
    #[default]
    Sync,
    /// Chunks are sent at once and checked in the background: faster, but text that the
    /// guardrail later blocks may already have been shown.
    Async,
}

/// An Amazon Bedrock guardrail: its identifier (id or ARN) and version.
///
/// ```
/// use link_bedrock::{Guardrail, GuardrailTrace};
///
/// let guardrail = Guardrail::new("gr-abc123", "1").with_trace(GuardrailTrace::Disabled);
/// assert_eq!(guardrail.identifier(), "gr-abc123");
/// assert_eq!(guardrail.version(), "1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guardrail {
    identifier: String,
    version: String,
    trace: GuardrailTrace,
    stream_mode: StreamMode,
}

impl Guardrail {
    /// A guardrail by identifier and version (`"DRAFT"` or a number such as `"1"`).
    pub fn new(identifier: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            identifier: identifier.into(),
            version: version.into(),
            trace: GuardrailTrace::default(),
            stream_mode: StreamMode::default(),
        }
    }

    /// Sets how much trace Bedrock returns.
    pub fn with_trace(mut self, trace: GuardrailTrace) -> Self {
        self.trace = trace;
        self
    }

    /// Sets when streamed chunks are checked.
    pub fn with_stream_mode(mut self, mode: StreamMode) -> Self {
        self.stream_mode = mode;
        self
    }

    /// The guardrail id or ARN.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The guardrail version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The trace setting.
    pub fn trace(&self) -> GuardrailTrace {
        self.trace
    }

    /// The stream processing mode.
    pub fn stream_mode(&self) -> StreamMode {
        self.stream_mode
    }

    /// Refuses an empty identifier or version, which Bedrock would reject on every call.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.identifier.trim().is_empty() || self.version.trim().is_empty() {
            return Err(config_error(
                "the guardrail identifier and version must not be empty",
            ));
        }
        Ok(())
    }

    pub(crate) fn sdk_trace(&self) -> bedrock::GuardrailTrace {
        match self.trace {
            GuardrailTrace::Disabled => bedrock::GuardrailTrace::Disabled,
            GuardrailTrace::Enabled => bedrock::GuardrailTrace::Enabled,
            GuardrailTrace::EnabledFull => bedrock::GuardrailTrace::EnabledFull,
        }
    }

    pub(crate) fn sdk_stream_mode(&self) -> GuardrailStreamProcessingMode {
        match self.stream_mode {
            StreamMode::Sync => GuardrailStreamProcessingMode::Sync,
            StreamMode::Async => GuardrailStreamProcessingMode::Async,
        }
    }
}

/// Checks a model id or inference profile id (`amazon.nova-micro-v1:0`,
/// `us.amazon.nova-micro-v1:0`, or an ARN): Bedrock accepts many shapes, so only what can
/// never work is refused here.
pub(crate) fn validate_model_id(model_id: &str) -> Result<()> {
    if model_id.is_empty() || model_id.len() > 2048 {
        return Err(config_error(
            "the Bedrock model id must be 1 to 2048 characters",
        ));
    }
    if model_id
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(config_error(
            "the Bedrock model id must not contain white space",
        ));
    }
    Ok(())
}

pub(crate) fn config_error(message: impl Into<String>) -> Error {
    Error::Config {
        message: message.into(),
    }
}

/// Builds a Bedrock client from the standard AWS chain: region, credentials and retry
/// settings from the environment, shared config files, SSO (with the `sso` feature) or the
/// instance role.
///
/// ```no_run
/// # async fn demo() {
/// let client = link_bedrock::client_from_env().await;
/// let model = link_bedrock::BedrockChatModel::new(client);
/// # }
/// ```
pub async fn client_from_env() -> aws_sdk_bedrockruntime::Client {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_bedrockruntime::Client::new(&config)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_and_profiles_are_accepted_and_junk_refused() {
        for id in [
            DEFAULT_MODEL,
            "us.amazon.nova-micro-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
        ] {
            assert!(validate_model_id(id).is_ok(), "{id}");
        }
        for id in ["", "amazon nova", "x\n"] {
            assert!(
                matches!(validate_model_id(id), Err(Error::Config { .. })),
                "{id:?}"
            );
        }
    }

    #[test]
    fn guardrails_need_an_identifier_and_a_version() {
        assert!(Guardrail::new("gr", "DRAFT").validate().is_ok());
        assert!(Guardrail::new("", "1").validate().is_err());
        assert!(Guardrail::new("gr", " ").validate().is_err());
    }
}
