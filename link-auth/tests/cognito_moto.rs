//! Verifies tokens issued by a real Cognito emulator: moto_server on a free loopback port.
//! Needs `moto[server]` and boto3 (installed by scripts/setup.sh); fails, not skips, without.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use link_auth::{AuthError, CognitoAuthenticator, CognitoTokenUse};
use link_core::{Authenticator, TokenUse};
use link_testkit::moto::Moto;
use serde_json::Value;

/// Runs the boto3 helper: creates pool, client and user, signs in, returns its JSON.
fn sign_in(moto: &Moto) -> Value {
    moto.run_helper(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto_cognito.py"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_the_moto_cognito_emulator_verify() {
    let moto = Moto::start();
    let session = sign_in(&moto);
    let text = |name: &str| session[name].as_str().unwrap().to_owned();
    let (region, pool_id, client_id) = (text("region"), text("pool_id"), text("client_id"));
    let jwks_url = format!("{}/{pool_id}/.well-known/jwks.json", moto.endpoint());

    let auth = CognitoAuthenticator::builder(&region, &pool_id)
        .client_id(&client_id)
        .token_use(CognitoTokenUse::Any)
        .jwks_url(&jwks_url)
        .build()
        .unwrap();
    let id = auth.authenticate(&text("id_token")).await.unwrap();
    assert_eq!(id.token_use, Some(TokenUse::Id));
    assert_eq!(id.username.as_deref(), Some("ada"));
    assert!(!id.sub.is_empty());
    let access = auth.authenticate(&text("access_token")).await.unwrap();
    assert_eq!(access.token_use, Some(TokenUse::Access));
    assert_eq!(access.sub, id.sub);

    // The same tokens, checked for another app client or token use, are refused.
    let other_client = CognitoAuthenticator::builder(&region, &pool_id)
        .client_id("another-client")
        .jwks_url(&jwks_url)
        .build()
        .unwrap();
    assert_eq!(
        other_client.verify(&text("id_token")).await.unwrap_err(),
        AuthError::WrongClientId
    );
    let id_only = CognitoAuthenticator::builder(&region, &pool_id)
        .client_id(&client_id)
        .token_use(CognitoTokenUse::Id)
        .jwks_url(&jwks_url)
        .build()
        .unwrap();
    assert_eq!(
        id_only.verify(&text("access_token")).await.unwrap_err(),
        AuthError::WrongTokenUse { expected: "id" }
    );
}
