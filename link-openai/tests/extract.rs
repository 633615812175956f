//! OpenAiPersonaExtractor against a fake OpenAI on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use link_core::{Error, PersonaExtractor, PersonaKind};
use link_openai::OpenAiPersonaExtractor;
use serde_json::json;

async fn extract_with(answers: Vec<Answer>) -> (FakeOpenAi, link_core::Result<link_core::Persona>) {
    let fake = FakeOpenAi::start(answers).await;
    let extractor = OpenAiPersonaExtractor::new(fake.config()).unwrap();
    let result = extractor.extract("Ada Lovelace").await;
    (fake, result)
}

#[tokio::test]
async fn success_sends_a_strict_schema_and_parses_the_persona() {
    let (fake, result) = extract_with(vec![fixed(json_completion(&persona_json(), "stop"))]).await;
    let persona = result.unwrap();
    assert_eq!(persona.name, "Ada Lovelace");
    assert_eq!(persona.kind, PersonaKind::Historical);
    assert_eq!(persona.living, Some(false));

    let requests = fake.requests().await;
    assert_eq!(requests.len(), 1);
    let auth = requests[0]
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(auth, format!("Bearer {KEY}"));
    let body = &fake.bodies().await[0];
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["messages"][0]["role"], "system");
    // The core instructions, exactly: OpenAI needs no suffix (the schema travels in
    // `response_format`).
    assert_eq!(
        body["messages"][0]["content"],
        link_core::extraction::instructions()
    );
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": "Ada Lovelace"})
    );
    assert_eq!(body["response_format"]["json_schema"]["name"], "persona");
    let problems = response_format_violations(&body["response_format"]);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(body.get("stream").is_none());

    // The strict schema is the core extraction schema made strict: the same fields, each
    // described as the core describes it, and the core's root description.
    let sent = &body["response_format"]["json_schema"]["schema"];
    let core = link_core::extraction::schema();
    assert_eq!(sent["description"], core["description"]);
    let sent_props = sent["properties"].as_object().unwrap();
    let core_props = core["properties"].as_object().unwrap();
    assert_eq!(
        sent_props.keys().collect::<Vec<_>>(),
        core_props.keys().collect::<Vec<_>>()
    );
    for (name, schema) in core_props {
        assert_eq!(
            sent_props[name]["description"], schema["description"],
            "{name}"
        );
    }
    let mut required: Vec<&str> = sent["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut core_required = link_core::extraction::field_order(&core);
    required.sort_unstable();
    core_required.sort_unstable();
    assert_eq!(required, core_required);
}

#[tokio::test]
async fn the_validator_rejects_an_uncleaned_schema() {
    // The fake's schema check must be able to fail, or the test above proves nothing.
    let raw = serde_json::to_value(link_core::schemars::schema_for!(link_core::Persona)).unwrap();
    let problems = strict_schema_violations(&raw);
    assert!(
        problems.iter().any(|p| p.contains("additionalProperties")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("required")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn a_refusal_is_a_refusal_error() {
    let refusal = completion(
        json!({"role": "assistant", "content": null, "refusal": "I'm sorry, I can't help with that request."}),
        "stop",
    );
    let (_, result) = extract_with(vec![fixed(refusal)]).await;
    assert!(
        matches!(result, Err(Error::Refusal { ref message }) if message.contains("sorry")),
        "{result:?}"
    );
}

#[tokio::test]
async fn length_is_truncated_not_parsed() {
    let cut = completion(
        json!({"role": "assistant", "content": "{\"name\":\"Ada Lov"}),
        "length",
    );
    let (_, result) = extract_with(vec![fixed(cut)]).await;
    assert!(matches!(result, Err(Error::Truncated { .. })), "{result:?}");
}

#[tokio::test]
async fn content_filter_is_content_filtered() {
    let filtered = completion(
        json!({"role": "assistant", "content": null}),
        "content_filter",
    );
    let (_, result) = extract_with(vec![fixed(filtered)]).await;
    assert!(
        matches!(result, Err(Error::ContentFiltered { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_persona_that_fails_validation_is_invalid_persona() {
    let mut persona = persona_json();
    persona["name"] = json!("   ");
    persona["greeting"] = json!("x".repeat(5000));
    let (_, result) = extract_with(vec![fixed(json_completion(&persona, "stop"))]).await;
    // The extractor hands over what the model wrote; the engine's check refuses it.
    let Err(Error::InvalidPersona { problems }) = result.unwrap().validated() else {
        panic!("expected invalid persona")
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[tokio::test]
async fn json_that_is_not_a_persona_is_malformed() {
    let not_json = completion(
        json!({"role": "assistant", "content": "Sure! Here is Ada: {"}),
        "stop",
    );
    let (_, result) = extract_with(vec![fixed(not_json)]).await;
    assert!(
        matches!(result, Err(Error::MalformedOutput { .. })),
        "{result:?}"
    );

    let wrong_kind = json_completion(&json!({"name": "Ada", "kind": "wizard"}), "stop");
    let (_, result) = extract_with(vec![fixed(wrong_kind)]).await;
    assert!(
        matches!(result, Err(Error::MalformedOutput { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_bad_key_is_a_non_retryable_provider_401_without_the_key() {
    let fake = FakeOpenAi::start(vec![fixed(json_completion(&persona_json(), "stop"))]).await;
    let config = fake
        .builder()
        .api_key("sk-wrong-key-000000000000")
        .build()
        .unwrap();
    let result = OpenAiPersonaExtractor::new(config)
        .unwrap()
        .extract("Ada")
        .await;
    let Err(err @ Error::Provider { .. }) = result else {
        panic!("expected a provider error, got {result:?}")
    };
    let Error::Provider {
        provider,
        status,
        message,
        retryable,
        body,
        ..
    } = &err
    else {
        unreachable!()
    };
    assert_eq!(provider, "openai");
    assert_eq!(*status, Some(401));
    assert!(!retryable);
    assert!(
        message.starts_with("Incorrect API key provided"),
        "{message}"
    );
    let shown = format!("{err} {err:?} {body:?}");
    assert!(
        !shown.contains("sk-wrong-key") && !shown.contains("sk-proj"),
        "{shown}"
    );
    assert_eq!(fake.requests().await.len(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_after_the_wait() {
    let limited = error(
        429,
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for gpt-4o-mini",
    )
    .insert_header("retry-after-ms", "40");
    let fake = FakeOpenAi::start(vec![
        fixed(limited),
        fixed(json_completion(&persona_json(), "stop")),
    ])
    .await;
    let extractor = OpenAiPersonaExtractor::new(fake.config()).unwrap();
    let started = Instant::now();
    extractor.extract("Ada Lovelace").await.unwrap();
    // A lower bound only: the client waited at least as long as the server asked.
    assert!(
        started.elapsed() >= Duration::from_millis(40),
        "retry-after-ms was not honoured"
    );
    assert_eq!(fake.requests().await.len(), 2);
}

#[tokio::test]
async fn insufficient_quota_is_not_retried() {
    let quota = error(
        429,
        "insufficient_quota",
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
    );
    let (fake, result) = extract_with(vec![
        fixed(quota),
        fixed(json_completion(&persona_json(), "stop")),
    ])
    .await;
    assert!(
        matches!(
            result,
            Err(Error::Provider {
                status: Some(429),
                retryable: false,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(fake.requests().await.len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let boom = error(
        500,
        "server_error",
        "",
        "The server had an error while processing your request.",
    );
    let ok = json_completion(&persona_json(), "stop");
    let (fake, result) = extract_with(vec![fixed(boom.clone()), fixed(boom), fixed(ok)]).await;
    assert_eq!(result.unwrap().name, "Ada Lovelace");
    assert_eq!(fake.requests().await.len(), 3);
}

#[tokio::test]
async fn retries_are_bounded() {
    let boom = error(503, "server_error", "", "overloaded");
    let (fake, result) = extract_with(vec![fixed(boom)]).await;
    assert!(
        matches!(
            result,
            Err(Error::Provider {
                status: Some(503),
                retryable: true,
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(fake.requests().await.len(), 3, "1 attempt + 2 retries");
}

#[tokio::test]
async fn an_unknown_model_is_a_provider_404() {
    let fake = FakeOpenAi::start(vec![fixed(json_completion(&persona_json(), "stop"))]).await;
    let config = fake.config().with_model("gpt-nonexistent");
    let result = OpenAiPersonaExtractor::new(config)
        .unwrap()
        .extract("Ada")
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Provider {
                status: Some(404),
                retryable: false,
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_empty_request_never_reaches_the_server() {
    let (fake, _) = extract_with(vec![fixed(json_completion(&persona_json(), "stop"))]).await;
    let extractor = OpenAiPersonaExtractor::new(fake.config()).unwrap();
    let result = extractor.extract("   ").await;
    assert!(
        matches!(result, Err(Error::InvalidRequest { .. })),
        "{result:?}"
    );
    assert_eq!(
        fake.requests().await.len(),
        1,
        "only the first extraction was sent"
    );
}

#[tokio::test]
async fn organization_and_project_headers_are_sent() {
    let fake = FakeOpenAi::start(vec![fixed(json_completion(&persona_json(), "stop"))]).await;
    let config = fake
        .builder()
        .organization("org-test")
        .project("proj_test")
        .build()
        .unwrap();
    OpenAiPersonaExtractor::new(config)
        .unwrap()
        .extract("Ada")
        .await
        .unwrap();
    let request = &fake.requests().await[0];
    assert_eq!(
        request.headers.get("openai-organization").unwrap(),
        "org-test"
    );
    assert_eq!(request.headers.get("openai-project").unwrap(), "proj_test");
}

#[tokio::test]
async fn the_extraction_conformance_suite_passes() {
    let fake = FakeOpenAi::start(vec![fixed(json_completion(&persona_json(), "stop"))]).await;
    let extractor = OpenAiPersonaExtractor::new(fake.config()).unwrap();
    let persona =
        link_core::testing::conformance::persona_extractor(&extractor, "Ada Lovelace").await;
    assert!(persona.is_real_person());
}
