//! Persona extraction through forced tool use, and the ApplyGuardrail check.

use link_bedrock::{BedrockPersonaExtractor, GuardrailCheck, PERSONA_TOOL};
use link_core::{Error, PersonaExtractor, PersonaKind};

use crate::guardrail;
use crate::mock::{Mock, TRIGGER, VALIDATION};
use crate::persona_mock::{CHATTY, MALFORMED, NAMELESS};

fn extractor(mock: &Mock) -> BedrockPersonaExtractor {
    BedrockPersonaExtractor::new(mock.client.clone())
}

#[tokio::test]
async fn a_persona_comes_from_the_forced_tool_call() {
    let mock = Mock::start().await;
    // Through the engine's check, as every extracted persona goes.
    let persona = extractor(&mock)
        .extract("  Ada Lovelace ")
        .await
        .unwrap()
        .validated()
        .unwrap();
    assert_eq!(persona.name, "Ada Lovelace");
    assert_eq!(persona.kind, PersonaKind::Fictional);
    assert_eq!(
        persona.greeting, "Hello, I am Ada Lovelace.",
        "the persona is normalised"
    );
    assert_eq!(persona.example_lines, vec!["Indeed.".to_owned()]);

    let body = mock.last("converse").body;
    assert_eq!(
        body["toolConfig"]["toolChoice"]["tool"]["name"],
        PERSONA_TOOL
    );
    assert_eq!(
        body["toolConfig"]["tools"][0]["toolSpec"]["name"],
        PERSONA_TOOL
    );
    assert_eq!(body["messages"][0]["content"][0]["text"], "Ada Lovelace");
    let schema = &body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"];
    assert_eq!(
        schema["properties"]["kind"]["enum"][0], "fictional",
        "{schema}"
    );
    let core = link_core::extraction::schema();
    assert_eq!(schema["description"], core["description"]);
    assert_eq!(schema["required"], core["required"]);
    // The core instructions, plus one sentence naming the tool (documented in the extractor).
    let system = body["system"][0]["text"].as_str().unwrap();
    let suffix = system
        .strip_prefix(link_core::extraction::instructions())
        .unwrap_or_else(|| panic!("not the core instructions: {system}"));
    assert!(
        suffix.starts_with('\n') && suffix.contains(PERSONA_TOOL) && suffix.len() < 100,
        "{suffix:?}"
    );
}

#[tokio::test]
async fn broken_tool_calls_are_refused_by_meaning() {
    let mock = Mock::start().await;
    let extractor = extractor(&mock);
    let err = extractor
        .extract(&format!("a {MALFORMED} mage"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MalformedOutput { .. }), "{err:?}");
    // A nameless persona leaves the extractor and is refused by the engine's check.
    let err = extractor
        .extract(&format!("a {NAMELESS} ghost"))
        .await
        .unwrap()
        .validated()
        .unwrap_err();
    let Error::InvalidPersona { problems } = err else {
        panic!("{err:?}")
    };
    assert_eq!(problems, vec!["name is empty".to_owned()]);
    let err = extractor
        .extract(&format!("a {CHATTY} bard"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MalformedOutput { .. }), "{err:?}");
}

#[tokio::test]
async fn bad_requests_and_provider_errors() {
    let mock = Mock::start().await;
    assert!(matches!(
        extractor(&mock).extract("   ").await,
        Err(Error::InvalidRequest { .. })
    ));
    assert!(mock.requests().is_empty(), "an empty request is not sent");
    let failing = extractor(&mock).with_model(VALIDATION).unwrap();
    assert!(matches!(
        failing.extract("Ada").await,
        Err(Error::Provider {
            status: Some(400),
            retryable: false,
            ..
        })
    ));
}

#[tokio::test]
async fn the_guardrail_check_blocks_a_persona_before_it_is_accepted() {
    let mock = Mock::start().await;
    let check = GuardrailCheck::new(mock.client.clone(), guardrail()).unwrap();
    let extractor = extractor(&mock).with_check(check);

    let persona = extractor.extract("Ada Lovelace").await.unwrap();
    assert_eq!(persona.name, "Ada Lovelace");
    let sent = mock.last("apply-guardrail");
    assert_eq!(sent.raw_path, "/guardrail/gr-test/version/1/apply");
    assert_eq!(sent.body["source"], "INPUT");
    let text = sent.body["content"][0]["text"]["text"].as_str().unwrap();
    // The guardrail assesses the persona as the extractor returns it.
    assert!(
        text.contains("Name: Ada Lovelace")
            && text.contains(&format!("Greeting: {}\n", persona.greeting))
            && persona.greeting.trim().starts_with("Hello"),
        "{text}"
    );

    let err = extractor
        .extract(&format!("a {TRIGGER} wizard"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::GuardrailBlocked {
            message: "This character is not allowed.".into()
        }
    );
}

#[tokio::test]
async fn the_guardrail_check_is_a_moderator_for_input_and_output() {
    use link_core::{Moderator, TextSource, Verdict};

    let mock = Mock::start().await;
    let check = GuardrailCheck::new(mock.client.clone(), guardrail()).unwrap();
    let verdict = check.check("Good evening.", TextSource::Input).await;
    assert_eq!(verdict.unwrap(), Verdict::Allowed);
    assert_eq!(mock.last("apply-guardrail").body["source"], "INPUT");

    let text = format!("Let us talk of {TRIGGER} things.");
    let verdict = check.check(&text, TextSource::Output).await.unwrap();
    let sent = mock.last("apply-guardrail");
    assert_eq!(sent.body["source"], "OUTPUT");
    assert_eq!(sent.body["content"][0]["text"]["text"], text.as_str());
    // The policies that acted, by name; never the word the custom-word policy matched.
    assert_eq!(
        verdict,
        Verdict::blocked(["content:VIOLENCE", "topic:Forbidden", "word:custom"])
    );
    assert!(!format!("{verdict:?}").contains(TRIGGER));
}
