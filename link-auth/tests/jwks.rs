//! JWKS and Cognito verification against keys generated here and a JWKS served on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use link_auth::{
    AuthError, CognitoAuthenticator, CognitoTokenUse, JwksAuthenticator, JwsAlgorithm,
};
use link_core::{Authenticator, TokenUse};
use serde_json::json;

async fn cognito_server() -> JwksServer {
    JwksServer::start(vec![ID_KEY.jwk(), ACCESS_KEY.jwk(), EC_KEY.jwk()]).await
}

fn cognito(server: &JwksServer, token_use: CognitoTokenUse) -> CognitoAuthenticator {
    CognitoAuthenticator::builder(REGION, POOL)
        .client_id(CLIENT)
        .token_use(token_use)
        .jwks_url(&server.url)
        .build()
        .unwrap()
}

async fn rejection(auth: &CognitoAuthenticator, token: &str) -> AuthError {
    auth.verify(token).await.expect_err("token must be refused")
}

#[tokio::test]
async fn valid_id_and_access_tokens_pass_and_yield_a_principal_without_email() {
    let server = cognito_server().await;
    let auth = cognito(&server, CognitoTokenUse::Any);

    let id = auth
        .authenticate(&ID_KEY.token(&id_claims()))
        .await
        .unwrap();
    assert_eq!(id.sub, "0f1e2d3c-user");
    assert_eq!(id.username.as_deref(), Some("alice"));
    assert_eq!(id.groups, vec!["readers"]);
    assert_eq!(id.token_use, Some(TokenUse::Id));
    assert!(id.expires_at.unwrap().unix_timestamp() > now() as i64);
    assert!(!format!("{id:?}").contains("example.com"));

    let access = auth
        .authenticate(&ACCESS_KEY.token(&access_claims()))
        .await
        .unwrap();
    assert_eq!(access.token_use, Some(TokenUse::Access));
    assert_eq!(access.username.as_deref(), Some("alice"));
    assert_eq!(server.fetches(), 1, "both keys come from one fetch");
}

#[tokio::test]
async fn general_oidc_issuer_with_ec_keys_and_audience() {
    let server = cognito_server().await;
    let auth = JwksAuthenticator::builder("https://issuer.test/")
        .jwks_url(&server.url)
        .audience(["api://link"])
        .build()
        .unwrap();
    let claims = json!({"sub": "u-ec", "iss": "https://issuer.test/", "aud": ["api://link"],
        "exp": now() + 60});
    let verified = auth.verify(&EC_KEY.token(&claims)).await.unwrap();
    assert_eq!(verified.sub(), Some("u-ec"));

    let other_aud = with(claims.clone(), "aud", json!("api://other"));
    assert_eq!(
        auth.verify(&EC_KEY.token(&other_aud)).await.unwrap_err(),
        AuthError::WrongAudience
    );

    let rs_only = JwksAuthenticator::builder("https://issuer.test/")
        .jwks_url(&server.url)
        .allowed_algorithms([JwsAlgorithm::RS256])
        .build()
        .unwrap();
    assert_eq!(
        rs_only.verify(&EC_KEY.token(&claims)).await.unwrap_err(),
        AuthError::AlgorithmNotAllowed {
            alg: "ES256".into()
        }
    );
}

#[tokio::test]
async fn time_issuer_use_and_client_rejections_each_have_their_own_kind() {
    let server = cognito_server().await;
    let any = cognito(&server, CognitoTokenUse::Any);
    let id_only = cognito(&server, CognitoTokenUse::Id);
    let t = now();

    let expired = with(id_claims(), "exp", json!(t - 10));
    assert_eq!(
        rejection(&any, &ID_KEY.token(&expired)).await,
        AuthError::Expired
    );

    let early = with(id_claims(), "nbf", json!(t + 600));
    assert_eq!(
        rejection(&any, &ID_KEY.token(&early)).await,
        AuthError::NotYetValid
    );

    let foreign = with(
        id_claims(),
        "iss",
        json!("https://cognito-idp.eu-west-1.amazonaws.com/other"),
    );
    assert_eq!(
        rejection(&any, &ID_KEY.token(&foreign)).await,
        AuthError::WrongIssuer
    );

    let wrong_aud = with(id_claims(), "aud", json!("someone-else"));
    assert_eq!(
        rejection(&any, &ID_KEY.token(&wrong_aud)).await,
        AuthError::WrongClientId
    );

    let wrong_client = with(access_claims(), "client_id", json!("someone-else"));
    assert_eq!(
        rejection(&any, &ACCESS_KEY.token(&wrong_client)).await,
        AuthError::WrongClientId
    );

    assert_eq!(
        rejection(&id_only, &ACCESS_KEY.token(&access_claims())).await,
        AuthError::WrongTokenUse { expected: "id" }
    );

    let no_use = with(id_claims(), "token_use", json!(null));
    assert!(matches!(
        rejection(&any, &ID_KEY.token(&no_use)).await,
        AuthError::WrongTokenUse { .. }
    ));
}

#[tokio::test]
async fn leeway_accepts_a_token_that_expired_within_the_grace() {
    let server = cognito_server().await;
    let auth = CognitoAuthenticator::builder(REGION, POOL)
        .client_id(CLIENT)
        .jwks_url(&server.url)
        .leeway(Duration::from_secs(60))
        .build()
        .unwrap();
    let recently = with(id_claims(), "exp", json!(now() - 10));
    assert!(auth.verify(&ID_KEY.token(&recently)).await.is_ok());
    let long_ago = with(id_claims(), "exp", json!(now() - 120));
    assert_eq!(
        rejection(&auth, &ID_KEY.token(&long_ago)).await,
        AuthError::Expired
    );
}

#[tokio::test]
async fn forged_and_malformed_tokens_each_have_their_own_kind() {
    let server = cognito_server().await;
    let auth = cognito(&server, CognitoTokenUse::Any);
    let good = ID_KEY.token(&id_claims());
    let parts: Vec<&str> = good.split('.').collect();

    // alg none, the usual forgery: no signature at all.
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","kid":"id-key-1"}"#),
        parts[1]
    );
    assert_eq!(rejection(&auth, &none).await, AuthError::UnsecuredAlgorithm);

    // HS256 "signed" with the public key as the HMAC secret.
    let confused = hs256(
        &json!({"alg": "HS256", "kid": ID_KEY.kid}),
        &id_claims(),
        &ID_KEY.public_bytes(),
    );
    assert_eq!(
        rejection(&auth, &confused).await,
        AuthError::AlgorithmMismatch {
            token: "HS256".into(),
            key: "RS256".into()
        }
    );

    let unknown = ID_KEY.sign(&json!({"alg": "RS256", "kid": "nobody"}), &id_claims());
    assert_eq!(rejection(&auth, &unknown).await, AuthError::UnknownKeyId);

    let no_kid = ID_KEY.sign(&json!({"alg": "RS256"}), &id_claims());
    assert_eq!(rejection(&auth, &no_kid).await, AuthError::MissingKeyId);

    let admin = with(id_claims(), "cognito:groups", json!(["admin"]));
    let tampered_payload = format!(
        "{}.{}.{}",
        parts[0],
        b64(serde_json::to_vec(&admin).unwrap()),
        parts[2]
    );
    assert_eq!(
        rejection(&auth, &tampered_payload).await,
        AuthError::InvalidSignature
    );

    let mut sig = parts[2].to_owned();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    sig.replace_range(0..1, flipped);
    let tampered_sig = format!("{}.{}.{sig}", parts[0], parts[1]);
    assert_eq!(
        rejection(&auth, &tampered_sig).await,
        AuthError::InvalidSignature
    );

    let two = format!("{}.{}", parts[0], parts[1]);
    assert_eq!(
        rejection(&auth, &two).await,
        AuthError::WrongPartCount { found: 2 }
    );
    let four = format!("{good}.{}", parts[2]);
    assert_eq!(
        rejection(&auth, &four).await,
        AuthError::WrongPartCount { found: 4 }
    );

    let not_json = format!("{}.{}.{}", b64("RS256 please"), parts[1], parts[2]);
    assert_eq!(rejection(&auth, &not_json).await, AuthError::HeaderNotJson);

    // An RS256 token naming the EC key: the key's alg does not match.
    let cross = ID_KEY.sign(&json!({"alg": "RS256", "kid": EC_KEY.kid}), &id_claims());
    assert!(matches!(
        rejection(&auth, &cross).await,
        AuthError::AlgorithmMismatch { .. }
    ));
    assert_eq!(
        server.fetches(),
        2,
        "one initial fetch, one refresh for the unknown kid"
    );
}

#[tokio::test]
async fn keys_without_alg_or_for_encryption_are_handled() {
    let mut no_alg = ID_KEY.jwk();
    no_alg.as_object_mut().unwrap().remove("alg");
    let mut enc = ACCESS_KEY.jwk();
    enc["use"] = json!("enc");
    let server = JwksServer::start(vec![no_alg, enc]).await;
    let auth = cognito(&server, CognitoTokenUse::Any);

    assert!(auth.verify(&ID_KEY.token(&id_claims())).await.is_ok());
    let confused = hs256(
        &json!({"alg": "HS256", "kid": ID_KEY.kid}),
        &id_claims(),
        &ID_KEY.public_bytes(),
    );
    assert_eq!(
        rejection(&auth, &confused).await,
        AuthError::AlgorithmNotAllowed {
            alg: "HS256".into()
        }
    );
    let es_on_rsa = ID_KEY.sign(&json!({"alg": "ES256", "kid": ID_KEY.kid}), &id_claims());
    assert!(matches!(
        rejection(&auth, &es_on_rsa).await,
        AuthError::AlgorithmMismatch { .. }
    ));
    assert_eq!(
        rejection(&auth, &ACCESS_KEY.token(&access_claims())).await,
        AuthError::KeyNotForSignatures
    );
}

#[tokio::test]
async fn groups_and_custom_checks_refuse_with_their_own_kind() {
    let server = cognito_server().await;
    let admins = CognitoAuthenticator::builder(REGION, POOL)
        .client_id(CLIENT)
        .jwks_url(&server.url)
        .required_groups(["admin"])
        .build()
        .unwrap();
    assert_eq!(
        rejection(&admins, &ID_KEY.token(&id_claims())).await,
        AuthError::MissingGroup
    );
    let admin = with(id_claims(), "cognito:groups", json!(["readers", "admin"]));
    assert!(admins.verify(&ID_KEY.token(&admin)).await.is_ok());

    let verified_only = CognitoAuthenticator::builder(REGION, POOL)
        .client_id(CLIENT)
        .jwks_url(&server.url)
        .custom_check(|claims| match claims.get("email_verified") {
            Some(serde_json::Value::Bool(true)) => Ok(()),
            _ => Err("email not verified".into()),
        })
        .build()
        .unwrap();
    let unverified = with(id_claims(), "email_verified", json!(false));
    assert_eq!(
        rejection(&verified_only, &ID_KEY.token(&unverified)).await,
        AuthError::CustomCheck {
            reason: "email not verified".into()
        }
    );
}

#[tokio::test]
async fn errors_through_the_port_never_contain_the_token_or_claims() {
    let server = cognito_server().await;
    let auth = cognito(&server, CognitoTokenUse::Id);
    let token = ID_KEY.token(&with(id_claims(), "exp", json!(now() - 5)));
    let err = auth.authenticate(&token).await.unwrap_err();
    assert_eq!(err.code(), "unauthorized");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&token[..20]));
    assert!(!text.contains("example.com"));
}

#[tokio::test]
async fn key_rotation_is_picked_up_without_restart() {
    let server = JwksServer::start(vec![ID_KEY.jwk()]).await;
    let auth = cognito(&server, CognitoTokenUse::Id);
    assert!(auth.verify(&ID_KEY.token(&id_claims())).await.is_ok());

    server.set_keys(vec![ROTATED_KEY.jwk()]);
    let rotated = ROTATED_KEY.token(&id_claims());
    assert!(
        auth.verify(&rotated).await.is_ok(),
        "new kid triggers a refresh"
    );
    assert_eq!(server.fetches(), 2);

    // The old key left the set with the refresh.
    assert_eq!(
        rejection(&auth, &ID_KEY.token(&id_claims())).await,
        AuthError::UnknownKeyId
    );
    assert_eq!(
        server.fetches(),
        3,
        "the old kid is now unknown: one refresh, then cool-down"
    );
    assert_eq!(
        rejection(&auth, &ID_KEY.token(&id_claims())).await,
        AuthError::UnknownKeyId
    );
    assert_eq!(server.fetches(), 3, "no fetch during the cool-down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_unknown_kids_cause_one_fetch() {
    let server = cognito_server().await;
    server.set_delay(Duration::from_millis(100));
    let auth = Arc::new(cognito(&server, CognitoTokenUse::Any));

    // A cold cache: 100 valid tokens at once share the first fetch.
    let valid = Arc::new(ID_KEY.token(&id_claims()));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (auth, token) = (auth.clone(), valid.clone());
            tokio::spawn(async move { auth.verify(&token).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(server.fetches(), 1);

    let unknown = Arc::new(ROTATED_KEY.token(&id_claims()));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (auth, token) = (auth.clone(), unknown.clone());
            tokio::spawn(async move { auth.verify(&token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap_err(), AuthError::UnknownKeyId);
    }
    assert_eq!(
        server.fetches(),
        2,
        "exactly one refresh for 100 unknown-kid tokens"
    );
}

#[tokio::test]
async fn stale_keys_are_kept_when_the_endpoint_fails() {
    let server = JwksServer::start(vec![ID_KEY.jwk()]).await;
    let auth = cooling_down(&server, Duration::ZERO);
    let err = fail_a_refresh(&server, &auth).await;
    assert!(
        auth.verify(&ID_KEY.token(&id_claims())).await.is_ok(),
        "known keys keep verifying"
    );
    let as_core: link_core::Error = err.into();
    assert!(as_core.is_retryable());
}

#[tokio::test]
async fn a_stalled_endpoint_times_out() {
    let server = JwksServer::start(vec![ID_KEY.jwk()]).await;
    server.stall();
    let auth = CognitoAuthenticator::builder(REGION, POOL)
        .client_id(CLIENT)
        .jwks_url(&server.url)
        .fetch_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    // The endpoint never answers, so only the fetch timeout can end the verification; the
    // bound turns a missing timeout into a failure instead of a hang.
    let token = ID_KEY.token(&id_claims());
    let err = tokio::time::timeout(Duration::from_secs(60), rejection(&auth, &token))
        .await
        .expect("the fetch never timed out");
    assert!(matches!(err, AuthError::JwksUnavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(server.fetches(), 1, "the fetch reached the endpoint");
}

/// A Cognito verifier that waits `cooldown` between refreshes for unknown `kid`s.
fn cooling_down(server: &JwksServer, cooldown: Duration) -> CognitoAuthenticator {
    CognitoAuthenticator::builder(REGION, POOL)
        .client_id(CLIENT)
        .jwks_url(&server.url)
        .jwks_cooldown(cooldown)
        .build()
        .unwrap()
}

/// Verifies a good token (the first fetch), then fails the refresh that `ROTATED_KEY`'s
/// unknown `kid` asks for (the cool-down starts now); returns the refusal.
async fn fail_a_refresh(server: &JwksServer, auth: &CognitoAuthenticator) -> AuthError {
    assert!(auth.verify(&ID_KEY.token(&id_claims())).await.is_ok());
    server.set_failing(true);
    let err = rejection(auth, &ROTATED_KEY.token(&id_claims())).await;
    assert!(
        matches!(
            err,
            AuthError::JwksUnavailable {
                status: Some(503),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.fetches(), 2, "one fetch, then one failed refresh");
    err
}

#[tokio::test]
async fn a_failed_refresh_starts_a_cool_down_without_fetches() {
    let server = JwksServer::start(vec![ID_KEY.jwk()]).await;
    // Far longer than the test: every step below runs within the cool-down.
    let auth = cooling_down(&server, Duration::from_secs(3600));
    fail_a_refresh(&server, &auth).await;

    let rotated = ROTATED_KEY.token(&id_claims());
    let other = ID_KEY.sign(&json!({"alg": "RS256", "kid": "nobody"}), &id_claims());
    for token in [&rotated, &other].repeat(10) {
        assert_eq!(rejection(&auth, token).await, AuthError::UnknownKeyId);
    }
    // Not even an endpoint that works again and publishes the key ends the cool-down early.
    server.set_failing(false);
    server.set_keys(vec![ID_KEY.jwk(), ROTATED_KEY.jwk()]);
    assert_eq!(rejection(&auth, &rotated).await, AuthError::UnknownKeyId);
    assert_eq!(server.fetches(), 2, "no fetch during the cool-down");

    assert!(
        auth.verify(&ID_KEY.token(&id_claims())).await.is_ok(),
        "known keys keep verifying"
    );
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn a_failed_first_fetch_also_cools_down() {
    let server = JwksServer::start(vec![ID_KEY.jwk()]).await;
    server.set_failing(true);
    let auth = cooling_down(&server, Duration::from_secs(3600));
    let token = ID_KEY.token(&id_claims());
    for _ in 0..10 {
        let err = rejection(&auth, &token).await;
        assert!(matches!(err, AuthError::JwksUnavailable { .. }), "{err:?}");
    }
    assert_eq!(server.fetches(), 1, "one failed fetch, then the cool-down");
}

#[tokio::test]
async fn when_the_cool_down_runs_out_a_refresh_fetches_the_published_key() {
    let server = JwksServer::start(vec![ID_KEY.jwk()]).await;
    let auth = cooling_down(&server, Duration::from_millis(200));
    fail_a_refresh(&server, &auth).await;
    server.set_failing(false);
    server.set_keys(vec![ID_KEY.jwk(), ROTATED_KEY.jwk()]);

    // Ask until the key is accepted; the bound only turns a cool-down that never ends into
    // a failure. Every refusal on the way must have been answered without a fetch.
    let rotated = ROTATED_KEY.token(&id_claims());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while let Err(err) = auth.verify(&rotated).await {
        assert_eq!(err, AuthError::UnknownKeyId);
        assert_eq!(server.fetches(), 2, "a refusal in the cool-down fetched");
        assert!(
            std::time::Instant::now() < deadline,
            "the cool-down never ran out"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        server.fetches(),
        3,
        "one refresh once the cool-down ran out"
    );
    assert!(auth.verify(&rotated).await.is_ok());
    assert_eq!(server.fetches(), 3, "the new key is cached");
}
