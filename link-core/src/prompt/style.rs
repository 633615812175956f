//! Prompt styles: how the persona and Link's rules are put to a model, by model class.

/// How the [`PromptBuilder`](super::PromptBuilder) writes a model's input. A chat model's
/// adapter says which one it needs ([`ChatModel::prompt_style`](crate::ChatModel::prompt_style));
/// the engine builds every turn in that style.
///
/// Both styles frame the persona as data the user cannot override and frame a real person as
/// a simulation; they differ in how much a model is trusted to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PromptStyle {
    /// For capable models (OpenAI, Bedrock): the persona as a JSON document inside
    /// `<character>` tags, then a numbered list of rules.
    #[default]
    Full,
    /// For small local models (a few hundred million parameters): the persona as a few plain
    /// sentences in the second person, the rules a small model follows, and the greeting
    /// always kept as the character's first turn.
    Compact,
}
