//! Token and key-set parsing under arbitrary input: bearer tokens of any bytes or of the
//! right shape with any header and claims (signed or not), claim sets of any JSON, and JWKS
//! documents of any bytes or with keys of any shape served on loopback. Every call returns an
//! error or a valid value, never panics; a token that is not properly signed is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use common::{b64, hs256, now};
use link_auth::{Claims, DEV_ISSUER, DevAuthenticator, JwksAuthenticator};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

/// Cases per property; the JWKS ones are each an HTTP fetch.
const CASES: u32 = 256;

const SECRET: &str = "a-fuzzing-secret-that-is-long-enough-for-hs256";

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map(".{0,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A time claim: now-ish, past, far future, absurd, or the wrong type.
fn time_claim() -> impl Strategy<Value = Value> {
    let now = now() as i64;
    prop_oneof![
        Just(json!(now + 3600)),
        Just(json!(now - 3600)),
        Just(json!(1e300)),
        Just(json!(-1e300)),
        Just(json!(i64::MAX)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(0.5)),
        any_json(),
    ]
}

/// A claim set: the claims the verifiers read, each present or not, right or wrong.
fn claims() -> impl Strategy<Value = Value> {
    let issuer = prop_oneof![Just(json!(DEV_ISSUER)), any_json()];
    let subject = prop_oneof![".{0,12}".prop_map(Value::from), any_json()];
    let entries = (
        prop::option::of(issuer),
        prop::option::of(subject),
        prop::option::of(time_claim()),
        prop::option::of(time_claim()),
        prop::option::of(time_claim()),
        prop::option::of(any_json()),
        prop::option::of(any_json()),
        prop::option::of(any_json()),
    );
    entries.prop_map(|(iss, sub, exp, iat, nbf, groups, username, token_use)| {
        let named = [
            ("iss", iss),
            ("sub", sub),
            ("exp", exp),
            ("iat", iat),
            ("nbf", nbf),
            ("cognito:groups", groups),
            ("cognito:username", username),
            ("token_use", token_use),
        ];
        let map: Map<String, Value> = named
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_owned(), value?)))
            .collect();
        Value::Object(map)
    })
}

/// A header: a known, a dangerous or an unknown `alg`, a `kid`, sometimes junk.
fn header() -> impl Strategy<Value = Value> {
    let alg = prop_oneof![
        Just(json!("HS256")),
        Just(json!("RS256")),
        Just(json!("ES256")),
        Just(json!("EdDSA")),
        Just(json!("none")),
        Just(json!("NONE")),
        any_json(),
    ];
    (
        alg,
        prop::option::of(any_json()),
        prop::option::of(any_json()),
    )
        .prop_map(|(alg, kid, extra)| {
            let mut header = json!({"alg": alg, "typ": "JWT"});
            if let Some(kid) = kid {
                header["kid"] = kid;
            }
            if let Some(extra) = extra {
                header["x5u"] = extra;
            }
            header
        })
}

/// A token: three parts of any text, or base64url JSON with any signature, or HS256-signed
/// with the dev secret over any header and claims.
fn token() -> impl Strategy<Value = String> {
    let parts = prop::collection::vec("[A-Za-z0-9_\\-.=+/ ]{0,24}", 1..5).prop_map(|p| p.join("."));
    let unsigned = (any_json(), any_json(), "[A-Za-z0-9_\\-=+/]{0,40}")
        .prop_map(|(h, p, s)| format!("{}.{}.{s}", b64(h.to_string()), b64(p.to_string())));
    let signed = (header(), claims()).prop_map(|(h, c)| hs256(&h, &c, SECRET.as_bytes()));
    prop_oneof![
        1 => ".{0,64}",
        2 => parts,
        2 => unsigned,
        4 => signed,
    ]
}

/// What the verifiers promise of claims they accept: a principal or an error, and a
/// principal's subject is the token's.
fn principal_is_sound(claims: &Claims) -> Result<(), TestCaseError> {
    if let Ok(principal) = claims.to_principal() {
        prop_assert_eq!(Some(principal.sub.as_str()), claims.sub());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn dev_tokens_verify_or_fail_cleanly(token in token()) {
        let dev = DevAuthenticator::new(SECRET).unwrap();
        if let Ok(claims) = dev.verify(&token) {
            principal_is_sound(&claims)?;
        }
    }

    #[test]
    fn arbitrary_claim_sets_make_a_principal_or_an_error(claims in any_json(), extra in claims()) {
        for value in [claims, extra] {
            if let Some(claims) = Claims::from_json(value) {
                principal_is_sound(&claims)?;
                let _ = claims.groups();
                let _ = (claims.username(), claims.token_use());
            }
        }
    }
}

/// A key entry of a JWKS: every key type, with fields of the right or a wrong shape.
fn jwk() -> impl Strategy<Value = Value> {
    let kty = prop_oneof![
        Just(json!("RSA")),
        Just(json!("EC")),
        Just(json!("OKP")),
        Just(json!("oct")),
        any_json()
    ];
    let field = prop_oneof![
        3 => "[A-Za-z0-9_\\-]{0,40}".prop_map(Value::from),
        1 => any_json(),
    ];
    let curve = prop_oneof![
        Just(json!("P-256")),
        Just(json!("P-384")),
        Just(json!("Ed25519")),
        any_json()
    ];
    (
        kty,
        prop::option::of(Just(json!("k"))),
        (field.clone(), field.clone(), field.clone(), field),
        curve,
        prop::option::of(any_json()),
    )
        .prop_map(|(kty, kid, (n, e, x, y), crv, alg)| {
            let mut key =
                json!({"kty": kty, "n": n, "e": e, "x": x, "y": y, "crv": crv, "use": "sig"});
            if let Some(kid) = kid {
                key["kid"] = kid;
            }
            if let Some(alg) = alg {
                key["alg"] = alg;
            }
            key
        })
}

/// A JWKS document: keys of any shape, or any JSON, or any bytes.
fn jwks_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(jwk(), 0..4).prop_map(|keys| json!({"keys": keys}).to_string().into_bytes()),
        1 => any_json().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..128),
    ]
}

/// Serves whatever `body` holds as the JWKS, on loopback; its URL.
async fn serve_jwks(body: Arc<Mutex<Vec<u8>>>) -> String {
    let app = axum::Router::new().fallback(move || {
        let bytes = body.lock().unwrap().clone();
        async move { ([(CONTENT_TYPE, "application/json")], bytes) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[test]
fn any_key_set_loads_or_fails_cleanly_and_no_forged_token_passes() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let body = Arc::new(Mutex::new(Vec::new()));
    let url = runtime.block_on(serve_jwks(body.clone()));
    let forged = (header(), claims(), "[A-Za-z0-9_\\-]{1,64}").prop_map(|(mut h, c, s)| {
        h["kid"] = json!("k");
        let input = common::signing_input(&h, &c);
        format!("{input}.{s}")
    });
    let cases = (jwks_body(), prop::collection::vec(forged, 1..3));
    // One verifier for every case (its HTTP client is slow to build); with no cooldown each
    // refresh fetches the case's document.
    let auth = JwksAuthenticator::builder("https://issuer.example")
        .jwks_url(&url)
        .jwks_cooldown(Duration::ZERO)
        .fetch_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config::with_cases(CASES));
    let outcome = runner.run(&cases, |(document, tokens)| {
        *body.lock().unwrap() = document;
        runtime.block_on(async {
            let _ = auth.refresh_keys().await;
            for token in &tokens {
                prop_assert!(
                    auth.verify(token).await.is_err(),
                    "a forged token passed: {token}"
                );
            }
            Ok(())
        })
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
