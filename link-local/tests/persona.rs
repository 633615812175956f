//! LocalPersonaExtractor against the real SmolLM2 model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use link_core::{Error, PersonaExtractor};
use link_local::LocalPersonaExtractor;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sherlock_holmes_parses_and_validates() {
    let _serial = common::SERIAL.lock().await;
    let model = common::load(|c| c).await;
    let extractor = LocalPersonaExtractor::new(model.clone()).unwrap();
    // Normalised and validated there, as the engine does.
    let persona =
        link_core::testing::conformance::persona_extractor(&extractor, "Sherlock Holmes").await;
    // The extractor fills a blank name, greeting or description from the request, so their
    // being non-empty proves nothing: check that the model wrote the greeting and the
    // description itself, and the fields nothing fills in.
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
    let stats = model.stats();
    assert!(stats.tokens_generated > 20, "{stats:?}");
    assert_eq!(stats.active_generations, 0);
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
    let system = extractor.chat_request("Sherlock Holmes").system;
    assert!(
        system.starts_with(link_core::extraction::instructions()),
        "{system}"
    );
}
