//! # link-bedrock
//!
//! [Link](link_core) on Amazon Bedrock: Amazon Nova (or any Bedrock model) plays the
//! character, behind Bedrock Guardrails, whole or streamed; and a persona extractor through
//! Converse tool use, so an all-AWS deployment needs no other provider.
//!
//! - [`BedrockChatModel`] implements [`ChatModel`](link_core::ChatModel): Converse for whole
//!   replies, ConverseStream for streamed ones, or InvokeModel with the Nova `messages-v1`
//!   body ([`Api::InvokeModel`]). The default model is [`DEFAULT_MODEL`]
//!   (`amazon.nova-micro-v1:0`); any model id, inference profile id
//!   (`us.amazon.nova-micro-v1:0`) or ARN works.
//! - [`Guardrail`] puts every path behind a guardrail: `guardrailConfig` on Converse, the
//!   stream variant with `streamProcessingMode` on ConverseStream, the
//!   `X-Amzn-Bedrock-Guardrail*` headers on InvokeModel. The system prompt (the persona) and
//!   the user's turns are sent as `guardContent`, so both are assessed. An intervention is a
//!   [`StopReason::GuardrailIntervened`](link_core::StopReason::GuardrailIntervened) or a
//!   [`ChatEvent::GuardrailIntervened`](link_core::ChatEvent::GuardrailIntervened) that the
//!   engine turns into [`Error::GuardrailBlocked`](link_core::Error::GuardrailBlocked).
//! - [`BedrockPersonaExtractor`] implements [`PersonaExtractor`](link_core::PersonaExtractor)
//!   with one forced tool whose input schema is [`Persona`](link_core::Persona)'s.
//! - [`GuardrailCheck`] checks a persona with ApplyGuardrail before it is accepted.
//!
//! Region, credentials and retries come from the standard AWS chain ([`client_from_env`]), or
//! pass your own `aws_sdk_bedrockruntime::Client`. Failures are Link errors by meaning:
//! throttling and unavailability are retryable `Error::Provider`s, validation, access and
//! missing models are not, a model timeout is `Error::Timeout`, and an exception in the
//! middle of a stream is an `Err` item of the stream.
//!
//! ```no_run
//! use std::sync::Arc;
//! use link_bedrock::{BedrockChatModel, BedrockPersonaExtractor, Guardrail, GuardrailCheck};
//! use link_core::Link;
//!
//! # async fn demo() -> link_core::Result<()> {
//! let client = link_bedrock::client_from_env().await;
//! let guardrail = Guardrail::new("gr-abc123", "1");
//! let model = BedrockChatModel::new(client.clone()).with_guardrail(guardrail.clone())?;
//! let extractor = BedrockPersonaExtractor::new(client.clone())
//!     .with_check(GuardrailCheck::new(client, guardrail)?);
//! let link = Link::builder()
//!     .chat_model(Arc::new(model))
//!     .extractor(Arc::new(extractor))
//!     .build()?;
//! # let _ = link;
//! # Ok(()) }
//! ```
//!
//! Features: `sso` and `credentials-process` enable those credential sources of the AWS
//! chain (off by default to keep the build small).

mod chat;
mod config;
mod document;
mod error;
mod extractor;
mod guardrail;
mod invoke;
mod models;
mod request;
mod response;
mod stream;

pub use chat::BedrockChatModel;
pub use config::{Api, DEFAULT_MODEL, Guardrail, GuardrailTrace, StreamMode, client_from_env};
pub use extractor::{BedrockPersonaExtractor, PERSONA_TOOL, persona_schema};
pub use guardrail::GuardrailCheck;

/// The AWS SDK this crate is built on, so callers can build their own client with the same
/// version.
pub use aws_sdk_bedrockruntime;
