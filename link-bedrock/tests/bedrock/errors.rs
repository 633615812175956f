//! Failures mapped by meaning, retried only where the SDK's standard mode retries.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::Region;
use link_bedrock::BedrockChatModel;
use link_core::{ChatModel, Error};

use aws_sdk_bedrockruntime::config::Credentials;

use crate::mock::{ACCESS_DENIED, Mock, REGION, THROTTLE_ONCE, TIMEOUT, UNAVAILABLE, VALIDATION};
use crate::{model, request};

fn provider(err: Error) -> (Option<u16>, bool, String, Option<String>) {
    match err {
        Error::Provider {
            provider,
            status,
            retryable,
            message,
            body,
            ..
        } => {
            assert_eq!(provider, "bedrock");
            (status, retryable, message, body)
        }
        other => panic!("expected a provider error, got {other:?}"),
    }
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_then_succeeds() {
    let mock = Mock::start().await;
    let reply = model(&mock)
        .with_model(THROTTLE_ONCE)
        .unwrap()
        .complete(request("hi"))
        .await
        .unwrap();
    assert_eq!(reply.text, "You said: hi");
    assert_eq!(mock.calls(THROTTLE_ONCE), 2);
}

#[tokio::test]
async fn validation_errors_are_not_retried_and_keep_the_body() {
    let mock = Mock::start().await;
    let err = model(&mock)
        .with_model(VALIDATION)
        .unwrap()
        .complete(request("hi"))
        .await
        .unwrap_err();
    let (status, retryable, message, body) = provider(err);
    assert_eq!(status, Some(400));
    assert!(!retryable);
    assert!(
        message.contains("ValidationException") && message.contains("Malformed input"),
        "{message}"
    );
    assert!(body.unwrap().contains("Malformed input request"));
    assert_eq!(mock.calls(VALIDATION), 1);
}

#[tokio::test]
async fn a_stream_that_fails_to_start_is_the_outer_error() {
    let mock = Mock::start().await;
    let Err(err) = model(&mock)
        .with_model(VALIDATION)
        .unwrap()
        .stream(request("hi"))
        .await
    else {
        panic!("the stream should not start");
    };
    assert_eq!(provider(err).0, Some(400));
    assert_eq!(mock.calls(VALIDATION), 1);
}

#[tokio::test]
async fn model_timeouts_are_timeouts() {
    let mock = Mock::start().await;
    let err = model(&mock)
        .with_model(TIMEOUT)
        .unwrap()
        .complete(request("hi"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(mock.calls(TIMEOUT), 1);
}

#[tokio::test]
async fn access_denied_is_final_and_unavailability_retryable() {
    let mock = Mock::start().await;
    let err = model(&mock)
        .with_model(ACCESS_DENIED)
        .unwrap()
        .complete(request("hi"))
        .await
        .unwrap_err();
    let (status, retryable, ..) = provider(err);
    assert_eq!((status, retryable), (Some(403), false));
    assert_eq!(mock.calls(ACCESS_DENIED), 1);

    let err = model(&mock)
        .with_model(UNAVAILABLE)
        .unwrap()
        .complete(request("hi"))
        .await
        .unwrap_err();
    let (status, retryable, ..) = provider(err);
    assert_eq!((status, retryable), (Some(503), true));
    assert_eq!(
        mock.calls(UNAVAILABLE),
        3,
        "the SDK retries 503 up to its attempt limit"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_retryable_provider_error() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(Region::new("us-east-1"))
        .test_credentials()
        .empty_test_environment()
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .build(),
        )
        .load()
        .await;
    let model = BedrockChatModel::new(aws_sdk_bedrockruntime::Client::new(&config));
    let err = model.complete(request("hi")).await.unwrap_err();
    let (status, retryable, message, _) = provider(err);
    assert_eq!(status, None);
    assert!(retryable);
    assert!(message.contains("could not reach Bedrock"), "{message}");
}

#[tokio::test]
async fn bad_configuration_and_requests_fail_before_any_call() {
    let mock = Mock::start().await;
    assert!(matches!(
        model(&mock).with_model("amazon nova"),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        model(&mock).with_guardrail(link_bedrock::Guardrail::new("", "1")),
        Err(Error::Config { .. })
    ));
    let mut empty = request("hi");
    empty.messages.clear();
    assert!(matches!(
        model(&mock).complete(empty).await,
        Err(Error::InvalidRequest { .. })
    ));
    assert!(mock.requests().is_empty());
}

/// A client of the mock signing with `credentials` for `region`.
async fn signed_by(mock_url: &str, region: &str, credentials: Credentials) -> BedrockChatModel {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(mock_url)
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .empty_test_environment()
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    BedrockChatModel::new(aws_sdk_bedrockruntime::Client::new(&config))
}

#[tokio::test]
async fn a_bad_signature_is_refused_as_bedrock_refuses_it() {
    let mock = Mock::start().await;
    let url = mock.url.clone();
    let wrong_secret = Credentials::new("ANOTREAL", "not-the-secret", None, None, "test");
    let err = signed_by(&url, REGION, wrong_secret)
        .await
        .complete(request("hi"))
        .await
        .unwrap_err();
    let (status, retryable, message, _) = provider(err);
    assert_eq!((status, retryable), (Some(403), false));
    assert!(message.contains("InvalidSignatureException"), "{message}");

    let wrong_region = signed_by(&url, "eu-west-1", Credentials::for_tests())
        .await
        .complete(request("hi"))
        .await
        .unwrap_err();
    let (status, _, message, _) = provider(wrong_region);
    assert_eq!(status, Some(403));
    assert!(
        message.contains("IncompleteSignatureException"),
        "{message}"
    );
    assert_eq!(
        mock.requests().len(),
        2,
        "both reached the mock and were refused"
    );
}
