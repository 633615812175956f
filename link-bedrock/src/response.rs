//! Converse replies as Link types: the text, the stop reason and the token usage.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::types::{self as bedrock, ContentBlock, TokenUsage};
use link_core::{ChatResponse, Error, Result, StopReason, Usage};

/// A Bedrock stop reason (`end_turn`, `guardrail_intervened`, ...) as Link's.
pub(crate) fn stop_reason(wire: &str) -> StopReason {
    match wire {
        "end_turn" => StopReason::EndTurn,
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "guardrail_intervened" => StopReason::GuardrailIntervened,
        "content_filtered" => StopReason::ContentFiltered,
        other => StopReason::Other(other.to_owned()),
    }
}

/// Bedrock's counts are `i32`; a negative count would be a provider bug, read as zero.
pub(crate) fn usage(usage: &TokenUsage) -> Usage {
    let count = |n: i32| u64::try_from(n).unwrap_or(0);
    Usage {
        input_tokens: count(usage.input_tokens),
        output_tokens: count(usage.output_tokens),
        total_tokens: count(usage.total_tokens),
    }
}

/// The assistant message of a Converse reply.
pub(crate) fn message(output: &ConverseOutput) -> Result<&bedrock::Message> {
    match &output.output {
        Some(bedrock::ConverseOutput::Message(message)) => Ok(message),
        _ => Err(Error::MalformedOutput {
            message: "the Bedrock Converse reply holds no message".into(),
        }),
    }
}

/// The text blocks of a message, joined.
pub(crate) fn text(message: &bedrock::Message) -> String {
    message
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// A whole Converse reply. A guardrail intervention is a normal reply whose stop reason says
/// so and whose text is the guardrail's message.
pub(crate) fn chat_response(output: &ConverseOutput) -> Result<ChatResponse> {
    let stop_reason = stop_reason(output.stop_reason.as_str());
    if stop_reason == StopReason::GuardrailIntervened {
        // The trace says which policy fired; it can quote the user, so only its presence is logged.
        tracing::info!(
            trace = output.trace.is_some(),
            "Bedrock guardrail intervened"
        );
    }
    let text = text(message(output)?);
    Ok(ChatResponse {
        text,
        stop_reason,
        usage: output.usage.as_ref().map(usage),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn stop_reasons_map_and_unknown_ones_are_kept() {
        let cases = [
            ("end_turn", StopReason::EndTurn),
            ("max_tokens", StopReason::MaxTokens),
            ("stop_sequence", StopReason::StopSequence),
            ("guardrail_intervened", StopReason::GuardrailIntervened),
            ("content_filtered", StopReason::ContentFiltered),
            ("tool_use", StopReason::Other("tool_use".into())),
            ("cancelled", StopReason::Other("cancelled".into())),
        ];
        for (wire, expected) in cases {
            assert_eq!(stop_reason(wire), expected, "{wire}");
        }
    }

    #[test]
    fn replies_join_text_blocks_and_keep_usage() {
        let message = bedrock::Message::builder()
            .role(bedrock::ConversationRole::Assistant)
            .content(ContentBlock::Text("Elementary, ".into()))
            .content(ContentBlock::Text("my dear Watson.".into()))
            .build()
            .unwrap();
        let output = ConverseOutput::builder()
            .output(bedrock::ConverseOutput::Message(message))
            .stop_reason(bedrock::StopReason::EndTurn)
            .usage(
                TokenUsage::builder()
                    .input_tokens(10)
                    .output_tokens(5)
                    .total_tokens(15)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let reply = chat_response(&output).unwrap();
        assert_eq!(reply.text, "Elementary, my dear Watson.");
        assert_eq!(reply.usage, Some(Usage::new(10, 5)));
    }

    #[test]
    fn a_reply_without_a_message_is_malformed() {
        let output = ConverseOutput::builder()
            .stop_reason(bedrock::StopReason::EndTurn)
            .build()
            .unwrap();
        assert!(matches!(
            chat_response(&output),
            Err(Error::MalformedOutput { .. })
        ));
    }
}
