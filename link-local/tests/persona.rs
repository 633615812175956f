//! LocalPersonaExtractor against the real SmolLM2 model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use link_core::prompt::PromptStyle;
use link_core::{ChatModel, Error, Persona, PersonaExtractor, extraction};
use link_local::LocalPersonaExtractor;

/// The checks every extraction passes: normalised and validated as the engine does, and the
/// greeting and description written by the model.
async fn extract_holmes(extractor: &LocalPersonaExtractor) -> Persona {
    let persona =
        link_core::testing::conformance::persona_extractor(extractor, "Sherlock Holmes").await;
    // The extractor fills a blank name, greeting or description from the request, so their
    // being non-empty proves nothing: check that the model wrote the greeting and the
    // description itself.
    assert_ne!(
        persona.greeting,
        format!("Hello. I am {}.", persona.name),
        "{persona:?}"
    );
    assert_ne!(
        persona.description,
        format!("{} (Sherlock Holmes).", persona.name),
        "{persona:?}"
    );
    persona
}

/// The model wrote the persona and went idle after.
fn generated_and_idle(model: &link_local::LocalModel) {
    let stats = model.stats();
    assert!(stats.tokens_generated > 20, "{stats:?}");
    assert_eq!(stats.active_generations, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_model_writes_a_character_sheet() {
    let _serial = common::SERIAL.lock().await;
    let model = common::load(|c| c).await;
    assert_eq!(
        model.prompt_style(),
        PromptStyle::Compact,
        "SmolLM2-135M is small"
    );
    let extractor = LocalPersonaExtractor::new(model.clone()).unwrap();
    let persona = extract_holmes(&extractor).await;
    assert!(!persona.speaking_style.is_empty(), "{persona:?}");
    // The greeting is the character's own: a salutation, then who they are, as "I".
    let (salutation, rest) = persona.greeting.split_once(", ").unwrap();
    assert!(extraction::SALUTATIONS.contains(&salutation), "{persona:?}");
    assert!(
        rest.starts_with("I am ") || rest.starts_with("I'm "),
        "{persona:?}"
    );
    // The fields a small model fills badly are derived from the kind or left empty.
    for (field, text) in [
        ("personality", &persona.personality),
        ("setting", &persona.setting),
        ("knowledge", &persona.knowledge),
        ("must_not_know", &persona.must_not_know),
    ] {
        assert!(text.is_empty(), "{field} is not left empty: {persona:?}");
    }
    assert!(persona.example_lines.is_empty(), "{persona:?}");
    assert_eq!(
        persona.safety_notes.is_some(),
        persona.is_real_person(),
        "{persona:?}"
    );
    generated_and_idle(&model);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_style_writes_the_whole_persona_as_json() {
    let _serial = common::SERIAL.lock().await;
    let model = common::load(|c| c.with_prompt_style(PromptStyle::Full)).await;
    assert_eq!(model.prompt_style(), PromptStyle::Full);
    let extractor = LocalPersonaExtractor::new(model.clone()).unwrap();
    let persona = extract_holmes(&extractor).await;
    // Nothing fills these in: the model wrote them.
    for (field, text) in [
        ("personality", &persona.personality),
        ("speaking_style", &persona.speaking_style),
        ("setting", &persona.setting),
        ("knowledge", &persona.knowledge),
    ] {
        assert!(!text.is_empty(), "{field} is blank: {persona:?}");
    }
    assert!(
        (1..=3).contains(&persona.example_lines.len()),
        "{persona:?}"
    );
    generated_and_idle(&model);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_request_is_refused_without_generating() {
    let _serial = common::SERIAL.lock().await;
    let model = common::load(|c| c).await;
    let extractor = LocalPersonaExtractor::new(model.clone()).unwrap();
    assert!(matches!(
        extractor.extract("   ").await,
        Err(Error::InvalidRequest { .. })
    ));
    assert_eq!(model.stats().tokens_generated, 0);
    assert!(extractor.grammar().contains("root ::="));
    let request = extractor.chat_request("Sherlock Holmes");
    assert_eq!(request.system, extraction::SHEET_INSTRUCTIONS);
    assert_eq!(request.messages, extraction::sheet_turns("Sherlock Holmes"));

    // A model in the full style is asked with the core instructions, as the cloud extractors.
    let full = common::load(|c| c.with_prompt_style(PromptStyle::Full)).await;
    let system = LocalPersonaExtractor::new(full)
        .unwrap()
        .chat_request("Sherlock Holmes")
        .system;
    assert!(
        system.starts_with(link_core::extraction::instructions()),
        "{system}"
    );
}
