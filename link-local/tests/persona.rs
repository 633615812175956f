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
    let persona =
        link_core::testing::conformance::persona_extractor(&extractor, "Sherlock Holmes").await;
    assert!(!persona.name.is_empty() && !persona.greeting.is_empty());
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
}
