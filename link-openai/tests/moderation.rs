//! OpenAiModerator against the mock OpenAI's moderation endpoint on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use link_core::testing::{ScriptedChatModel, ScriptedExtractor};
use link_core::{
    Error, Link, Moderator, PersonaSource, Principal, RequestContext, TextSource, Verdict,
};
use link_openai::{OpenAiModerator, RetryPolicy};
use serde_json::json;

async fn check(mock: &MockOpenAi, text: &str) -> link_core::Result<Verdict> {
    OpenAiModerator::new(mock.config())
        .check(text, TextSource::Input)
        .await
}

#[tokio::test]
async fn a_clean_text_is_allowed_and_the_request_has_the_wire_shape() {
    let mock = MockOpenAi::setup().start().await;
    let verdict = check(&mock, "Good evening, Mr Holmes.").await.unwrap();
    assert_eq!(verdict, Verdict::Allowed);

    let requests = mock.requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url.path(), "/v1/moderations");
    assert_eq!(
        requests[0].headers["authorization"],
        format!("Bearer {KEY}").as_str()
    );
    assert_eq!(
        requests[0].body_json().unwrap(),
        json!({"model": "omni-moderation-latest", "input": "Good evening, Mr Holmes."})
    );
}

#[tokio::test]
async fn the_openai_moderator_conforms() {
    let mock = MockOpenAi::setup().start().await;
    let texts = link_core::testing::conformance::Texts {
        clean: "Good evening, Mr Holmes.".into(),
        flagged: "Hand me the crowbar.".into(),
    };
    link_core::testing::conformance::moderator(&OpenAiModerator::new(mock.config()), &texts).await;
}

#[tokio::test]
async fn a_flagged_text_is_blocked_with_its_categories() {
    let mock = MockOpenAi::setup().start().await;
    let verdict = check(&mock, "I will fetch the crowbar.").await.unwrap();
    assert_eq!(verdict, Verdict::blocked(["illicit/violent", "violence"]));
    let verdict = check(&mock, "You scoundrel!").await.unwrap();
    assert_eq!(verdict, Verdict::blocked(["harassment"]));
}

#[tokio::test]
async fn another_moderation_model_can_be_used() {
    let mock = MockOpenAi::setup().start().await;
    let moderator = OpenAiModerator::new(mock.config()).with_model("text-moderation-latest");
    assert_eq!(moderator.model(), "text-moderation-latest");
    moderator.check("hello", TextSource::Output).await.unwrap();
    assert_eq!(mock.bodies().await[0]["model"], "text-moderation-latest");

    let unknown = OpenAiModerator::new(mock.config()).with_model("no-such-moderation");
    let error = unknown
        .check("hello", TextSource::Output)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Provider {
                status: Some(404),
                retryable: false,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn rate_limits_and_overloads_are_retried_then_retryable_provider_errors() {
    let mock = MockOpenAi::setup().start().await;
    let error = check(&mock, "hit the rate limit").await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Provider {
                status: Some(429),
                retryable: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(mock.calls(), 3, "two retries");

    let mock = MockOpenAi::setup().start().await;
    let error = check(&mock, "overloaded").await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Provider {
                status: Some(503),
                retryable: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(mock.calls(), 3);

    let mock = MockOpenAi::setup().start().await;
    let error = check(&mock, "over my quota").await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Provider {
                status: Some(429),
                retryable: false,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(mock.calls(), 1, "insufficient_quota is not retried");
}

#[tokio::test]
async fn a_wrong_key_is_a_provider_error_that_never_shows_the_key() {
    let mock = MockOpenAi::setup().start().await;
    let config = mock
        .builder()
        .api_key("sk-wrong-0123456789abcdef")
        .build()
        .unwrap();
    let error = OpenAiModerator::new(config)
        .check("hello", TextSource::Input)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Provider {
                status: Some(401),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!format!("{error:?}").contains("sk-wrong-0123456789abcdef"));
}

#[tokio::test]
async fn no_answer_in_time_is_a_timeout() {
    let mock = MockOpenAi::setup().start().await;
    let config = mock
        .builder()
        .timeout(Duration::from_millis(50))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = OpenAiModerator::new(config)
        .check("go silent", TextSource::Input)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
}

#[tokio::test]
async fn in_the_engine_a_flagged_message_never_reaches_the_chat_model() {
    let mock = MockOpenAi::setup().start().await;
    let model = ScriptedChatModel::replying(["Indeed.", "Fetch the crowbar, Watson."]);
    let link = Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(model.clone()))
        .moderator(Arc::new(OpenAiModerator::new(mock.config())))
        .build()
        .unwrap();
    let ctx = RequestContext::new(Principal::new("alice"));
    let source = PersonaSource::Request("Sherlock Holmes".into());
    let id = link
        .create_conversation(&ctx, source)
        .await
        .unwrap()
        .conversation
        .id;

    let error = link
        .send(&ctx, id, "Hand me the crowbar")
        .await
        .unwrap_err();
    assert_eq!(
        error,
        Error::ContentBlocked {
            categories: vec!["illicit/violent".into(), "violence".into()]
        }
    );
    assert!(model.requests().is_empty());
    assert_eq!(
        link.send(&ctx, id, "Hello").await.unwrap().message.content,
        "Indeed."
    );
    // The reply is checked too.
    let error = link.send(&ctx, id, "And now?").await.unwrap_err();
    assert!(matches!(error, Error::ContentBlocked { .. }), "{error:?}");
    let messages = link.get_conversation(&ctx, id).await.unwrap().messages;
    assert_eq!(messages.len(), 3, "greeting and one turn: {messages:?}");
    assert!(mock.calls() >= 5, "persona, 2 inputs, 2 replies");
}
