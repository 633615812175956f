//! The context windows of the chat models on Amazon Bedrock that Link knows.
//!
//! The engine fits every prompt to the model's context window
//! ([`ChatModel::context_window`](link_core::ChatModel::context_window)). A model id, an
//! inference profile id (`us.amazon.nova-micro-v1:0`) or an ARN is matched by the longest
//! known family name it contains. Unknown models get
//! [`DEFAULT_CONTEXT_WINDOW`](link_core::prompt::DEFAULT_CONTEXT_WINDOW); set another with
//! [`BedrockChatModel::with_context_window`](crate::BedrockChatModel::with_context_window).
//! Bedrock's tokenizers are not public, so tokens are counted with the approximation.
//!
//! The windows are the ones the model cards in the Amazon Bedrock and Amazon Nova user guides
//! give: Nova Micro 128K, Nova Lite and Pro 300K, Nova Premier and Nova 2 Lite 1M; Claude 3 and
//! later 200K; Llama 3 8K, Llama 3.1 to 3.3 and 4 128K; Mistral 7B, Mixtral and Mistral Large
//! 32K (Large 2 128K); Titan Text Express 8K, Lite 4K; Command R 128K.

use link_core::prompt::DEFAULT_CONTEXT_WINDOW;

/// Known model families: a name the model id contains, and its window in tokens. The longest
/// contained name wins, so a more specific entry can refine a family's.
const KNOWN: &[(&str, usize)] = &[
    ("amazon.nova-micro", 128_000),
    ("amazon.nova-lite", 300_000),
    ("amazon.nova-pro", 300_000),
    ("amazon.nova-premier", 1_000_000),
    ("amazon.nova-2-lite", 1_000_000),
    ("amazon.titan-text-express", 8_192),
    ("amazon.titan-text-lite", 4_096),
    ("anthropic.claude-3", 200_000),
    ("anthropic.claude-opus-4", 200_000),
    ("anthropic.claude-sonnet-4", 200_000),
    ("anthropic.claude-haiku-4", 200_000),
    ("meta.llama3-8b", 8_192),
    ("meta.llama3-70b", 8_192),
    ("meta.llama3-1", 128_000),
    ("meta.llama3-2", 128_000),
    ("meta.llama3-3", 128_000),
    ("meta.llama4", 128_000),
    ("mistral.mistral-7b", 32_000),
    ("mistral.mixtral-8x7b", 32_000),
    ("mistral.mistral-large-2402", 32_000),
    ("mistral.mistral-large-2407", 128_000),
    ("mistral.mistral-small", 32_000),
    ("cohere.command-r", 128_000),
];

/// The context window of `model_id`, in tokens: the table's, else [`DEFAULT_CONTEXT_WINDOW`].
pub(crate) fn context_window(model_id: &str) -> usize {
    KNOWN
        .iter()
        .filter(|(name, _)| model_id.contains(name))
        .max_by_key(|(name, _)| name.len())
        .map_or(DEFAULT_CONTEXT_WINDOW, |&(_, window)| window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_profiles_and_arns_find_their_family() {
        let cases = [
            ("amazon.nova-micro-v1:0", 128_000),
            ("us.amazon.nova-micro-v1:0", 128_000),
            ("us.amazon.nova-lite-v1:0", 300_000),
            ("amazon.nova-pro-v1:0", 300_000),
            ("us.amazon.nova-2-lite-v1:0", 1_000_000),
            ("anthropic.claude-3-5-sonnet-20240620-v1:0", 200_000),
            ("us.anthropic.claude-sonnet-4-20250514-v1:0", 200_000),
            ("meta.llama3-8b-instruct-v1:0", 8_192),
            ("us.meta.llama3-1-8b-instruct-v1:0", 128_000),
            ("mistral.mistral-large-2402-v1:0", 32_000),
            (
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
                128_000,
            ),
            (
                "arn:aws:bedrock:us-east-1:123:provisioned-model/abc",
                DEFAULT_CONTEXT_WINDOW,
            ),
            ("ai21.jamba-1-5-mini-v1:0", DEFAULT_CONTEXT_WINDOW),
        ];
        for (id, window) in cases {
            assert_eq!(context_window(id), window, "{id}");
        }
    }
}
