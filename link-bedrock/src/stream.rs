//! ConverseStream events as a [`ChatStream`]: text deltas, a guardrail event when Bedrock
//! intervenes, and one final done event carrying the stop reason and usage.
//!
//! Bedrock sends `messageStop` (the stop reason) before `metadata` (the usage), so the done
//! event is emitted when the event stream closes, once both are known. An exception frame
//! mid-way becomes an `Err` item and ends the stream.

use aws_sdk_bedrockruntime::primitives::event_stream::EventReceiver;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{ContentBlockDelta, ConverseStreamOutput};
use futures::StreamExt;
use link_core::{ChatEvent, ChatStream, Error, Result, StopReason, Usage};

use crate::error::{PROVIDER, from_stream};
use crate::response::{stop_reason, usage};

type Receiver = EventReceiver<ConverseStreamOutput, ConverseStreamOutputError>;

/// Turns an open ConverseStream into Link events. Dropping the result closes the connection.
pub(crate) fn chat_stream(receiver: Receiver) -> ChatStream {
    futures::stream::unfold(Some((receiver, Mapper::default())), next_batch)
        .flat_map(futures::stream::iter)
        .boxed()
}

async fn next_batch(
    state: Option<(Receiver, Mapper)>,
) -> Option<(Vec<Result<ChatEvent>>, Option<(Receiver, Mapper)>)> {
    let (mut receiver, mut mapper) = state?;
    loop {
        match receiver.recv().await {
            Ok(Some(event)) => {
                let events = mapper.apply(event);
                if !events.is_empty() {
                    return Some((
                        events.into_iter().map(Ok).collect(),
                        Some((receiver, mapper)),
                    ));
                }
            }
            Ok(None) => return Some((vec![mapper.finish()], None)),
            Err(err) => return Some((vec![Err(from_stream(err))], None)),
        }
    }
}

/// The pure part of the mapping: what each event adds, and how the stream ends.
#[derive(Debug, Default)]
pub(crate) struct Mapper {
    /// The reply so far; when a guardrail intervenes it is the guardrail's message.
    text: String,
    stop_reason: Option<StopReason>,
    usage: Option<Usage>,
}

impl Mapper {
    pub(crate) fn apply(&mut self, event: ConverseStreamOutput) -> Vec<ChatEvent> {
        match event {
            ConverseStreamOutput::ContentBlockDelta(delta) => match delta.delta {
                Some(ContentBlockDelta::Text(text)) if !text.is_empty() => {
                    self.text.push_str(&text);
                    vec![ChatEvent::Delta { text }]
                }
                _ => Vec::new(),
            },
            ConverseStreamOutput::MessageStop(stop) => {
                let reason = stop_reason(stop.stop_reason.as_str());
                self.stop_reason = Some(reason.clone());
                if reason == StopReason::GuardrailIntervened {
                    tracing::info!("Bedrock guardrail intervened in a stream");
                    let message = (!self.text.is_empty()).then(|| self.text.clone());
                    return vec![ChatEvent::GuardrailIntervened { message }];
                }
                Vec::new()
            }
            ConverseStreamOutput::Metadata(metadata) => {
                self.usage = metadata.usage.as_ref().map(usage);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The last item once the event stream has closed.
    pub(crate) fn finish(self) -> Result<ChatEvent> {
        match self.stop_reason {
            Some(stop_reason) => Ok(ChatEvent::Done {
                stop_reason,
                usage: self.usage,
            }),
            None => Err(
                Error::provider(PROVIDER, "the ConverseStream ended before messageStop")
                    .with_retryable(true),
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use aws_sdk_bedrockruntime::types::{
        self as bedrock, ContentBlockDeltaEvent, ConverseStreamMetadataEvent, MessageStopEvent,
        TokenUsage,
    };

    use super::*;

    fn delta(text: &str) -> ConverseStreamOutput {
        ConverseStreamOutput::ContentBlockDelta(
            ContentBlockDeltaEvent::builder()
                .content_block_index(0)
                .delta(ContentBlockDelta::Text(text.into()))
                .build()
                .unwrap(),
        )
    }

    fn stop(reason: bedrock::StopReason) -> ConverseStreamOutput {
        ConverseStreamOutput::MessageStop(
            MessageStopEvent::builder()
                .stop_reason(reason)
                .build()
                .unwrap(),
        )
    }

    fn metadata() -> ConverseStreamOutput {
        let usage = TokenUsage::builder()
            .input_tokens(3)
            .output_tokens(2)
            .total_tokens(5)
            .build()
            .unwrap();
        ConverseStreamOutput::Metadata(ConverseStreamMetadataEvent::builder().usage(usage).build())
    }

    #[test]
    fn deltas_then_one_done_with_usage() {
        let mut mapper = Mapper::default();
        let mut events = Vec::new();
        for event in [
            delta("Hel"),
            delta(""),
            delta("lo"),
            stop(bedrock::StopReason::EndTurn),
            metadata(),
        ] {
            events.extend(mapper.apply(event));
        }
        events.push(mapper.finish().unwrap());
        assert_eq!(
            events,
            vec![
                ChatEvent::Delta { text: "Hel".into() },
                ChatEvent::Delta { text: "lo".into() },
                ChatEvent::Done {
                    stop_reason: StopReason::EndTurn,
                    usage: Some(Usage::new(3, 2))
                },
            ]
        );
    }

    #[test]
    fn a_guardrail_intervention_is_an_event_with_its_message() {
        let mut mapper = Mapper::default();
        mapper.apply(delta("Sorry, I cannot."));
        let events = mapper.apply(stop(bedrock::StopReason::GuardrailIntervened));
        assert_eq!(
            events,
            vec![ChatEvent::GuardrailIntervened {
                message: Some("Sorry, I cannot.".into())
            }]
        );
        let done = mapper.finish().unwrap();
        assert_eq!(
            done,
            ChatEvent::Done {
                stop_reason: StopReason::GuardrailIntervened,
                usage: None
            }
        );
    }

    #[test]
    fn a_stream_without_message_stop_is_an_error() {
        let mut mapper = Mapper::default();
        mapper.apply(delta("half"));
        assert!(mapper.finish().unwrap_err().is_retryable());
    }
}
