//! DevAuthenticator: locally minted HS256 tokens, verified strictly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{b64, hs256, now};
use link_auth::{AuthError, DevAuthenticator, dev_subject};
use link_core::{Authenticator, TokenUse};
use serde_json::json;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn minted_tokens_verify_and_carry_sub_username_and_dev_use() {
    let auth = DevAuthenticator::new(SECRET).unwrap();
    let principal = auth
        .authenticate(&auth.mint_with_username("u-1", "ada").unwrap())
        .await
        .unwrap();
    assert_eq!(principal.sub, "u-1");
    assert_eq!(principal.username.as_deref(), Some("ada"));
    assert_eq!(principal.token_use, Some(TokenUse::Dev));
    let exp = principal.expires_at.unwrap().unix_timestamp() as u64;
    assert!((now() + 3590..=now() + 3600).contains(&exp));
    assert!(auth.mint("").is_err());
}

#[test]
fn short_secrets_are_refused_and_random_ones_are_per_instance() {
    assert_eq!(
        DevAuthenticator::new(&SECRET[..31]).unwrap_err(),
        AuthError::WeakSecret {
            length: 31,
            minimum: 32
        }
    );
    let (a, b) = (DevAuthenticator::random(), DevAuthenticator::random());
    let token = a.mint("u").unwrap();
    assert!(a.verify(&token).is_ok());
    assert_eq!(b.verify(&token).unwrap_err(), AuthError::InvalidSignature);
    assert!(!format!("{a:?}").contains("0123"));
}

#[test]
fn expired_forged_and_foreign_tokens_are_refused() {
    let auth = DevAuthenticator::new(SECRET)
        .unwrap()
        .with_lifetime(Duration::ZERO);
    assert_eq!(
        auth.verify(&auth.mint("u").unwrap()).unwrap_err(),
        AuthError::Expired
    );

    let auth = DevAuthenticator::new(SECRET).unwrap();
    let claims = json!({"iss": "link-dev", "sub": "u", "token_use": "dev", "exp": now() + 60});
    let header = json!({"alg": "HS256"});
    assert!(auth.verify(&hs256(&header, &claims, SECRET)).is_ok());

    let other_iss = json!({"iss": "elsewhere", "sub": "u", "token_use": "dev", "exp": now() + 60});
    assert_eq!(
        auth.verify(&hs256(&header, &other_iss, SECRET))
            .unwrap_err(),
        AuthError::WrongIssuer
    );
    let id_use = json!({"iss": "link-dev", "sub": "u", "token_use": "id", "exp": now() + 60});
    assert_eq!(
        auth.verify(&hs256(&header, &id_use, SECRET)).unwrap_err(),
        AuthError::WrongTokenUse { expected: "dev" }
    );
    let unsigned = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(claims.to_string()));
    assert_eq!(
        auth.verify(&unsigned).unwrap_err(),
        AuthError::UnsecuredAlgorithm
    );
    let hs512 = hs256(&json!({"alg": "HS512"}), &claims, SECRET);
    assert_eq!(
        auth.verify(&hs512).unwrap_err(),
        AuthError::AlgorithmNotAllowed {
            alg: "HS512".into()
        }
    );
    let token = auth.mint("u").unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(
            json!({"iss": "link-dev", "sub": "admin", "token_use": "dev", "exp": now() + 60})
                .to_string()
        ),
        parts[2]
    );
    assert_eq!(
        auth.verify(&forged).unwrap_err(),
        AuthError::InvalidSignature
    );
}

#[test]
fn dev_subjects_are_stable_and_case_insensitive() {
    assert_eq!(dev_subject("Alice"), dev_subject("alice"));
    assert_ne!(dev_subject("alice"), dev_subject("bob"));
    // The value link-server has always given "alice": existing databases keep their owner.
    assert_eq!(dev_subject("alice"), "dev-8bdc78b8777ac19b785479c2d4b590eb");
    let auth = DevAuthenticator::new([7u8; 32]).unwrap();
    let claims = auth
        .verify(&auth.mint_for_username("Alice").unwrap())
        .unwrap();
    assert_eq!(claims.sub(), Some(dev_subject("alice").as_str()));
}
