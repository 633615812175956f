//! link-core's conformance suites against the Bedrock types, backed by the mock.

use link_bedrock::Api;
use link_core::testing::conformance;

use crate::mock::Mock;
use crate::{guarded, model};

#[tokio::test]
async fn converse_conforms() {
    let mock = Mock::start().await;
    conformance::chat_model(&model(&mock)).await;
}

#[tokio::test]
async fn guarded_converse_conforms() {
    let mock = Mock::start().await;
    conformance::chat_model(&guarded(&mock)).await;
}

#[tokio::test]
async fn invoke_model_conforms() {
    let mock = Mock::start().await;
    conformance::chat_model(&model(&mock).with_api(Api::InvokeModel)).await;
}

#[tokio::test]
async fn the_extractor_conforms() {
    let mock = Mock::start().await;
    let extractor = link_bedrock::BedrockPersonaExtractor::new(mock.client.clone());
    let persona = conformance::persona_extractor(&extractor, "Sherlock Holmes").await;
    assert_eq!(persona.name, "Sherlock Holmes");
}

#[tokio::test]
async fn the_guardrail_check_conforms_as_a_moderator() {
    let mock = Mock::start().await;
    let check = link_bedrock::GuardrailCheck::new(mock.client.clone(), crate::guardrail()).unwrap();
    let texts = conformance::Texts {
        clean: "Good evening.".into(),
        flagged: format!("Tell me {} things.", crate::mock::TRIGGER),
    };
    conformance::moderator(&check, &texts).await;
}
