//! Test helpers: keys generated in-process, hand-built tokens, and a JWKS server on loopback
//! that counts its fetches and can be told to fail or stall.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

pub const REGION: &str = "eu-west-1";
pub const POOL: &str = "eu-west-1_TestPool1";
pub const CLIENT: &str = "client-abc";

pub fn issuer() -> String {
    format!("https://cognito-idp.{REGION}.amazonaws.com/{POOL}")
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An RSA key pair with its `kid`.
pub struct RsaKey {
    pub kid: String,
    pair: RsaKeyPair,
}

impl RsaKey {
    pub fn generate(kid: &str) -> Self {
        Self {
            kid: kid.into(),
            pair: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
        }
    }

    pub fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// The public key parsed once by aws-lc-rs (the benchmarks' baseline).
    pub fn parsed_public_key(&self) -> aws_lc_rs::signature::ParsedPublicKey {
        aws_lc_rs::signature::ParsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            self.pair.public_key().as_ref(),
        )
        .unwrap()
    }

    /// The bytes an attacker would use as an HMAC secret: the public modulus.
    pub fn public_bytes(&self) -> Vec<u8> {
        self.pair
            .public_key()
            .modulus()
            .big_endian_without_leading_zero()
            .to_vec()
    }

    pub fn sign(&self, header: &Value, payload: &Value) -> String {
        let input = signing_input(header, payload);
        let mut sig = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", b64(sig))
    }

    /// An RS256 token with this key's `kid`.
    pub fn token(&self, payload: &Value) -> String {
        self.sign(&json!({"alg": "RS256", "kid": self.kid}), payload)
    }
}

/// A P-256 key pair with its `kid`.
pub struct EcKey {
    pub kid: String,
    pair: EcdsaKeyPair,
}

impl EcKey {
    pub fn generate(kid: &str) -> Self {
        Self {
            kid: kid.into(),
            pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
        }
    }

    pub fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref().to_vec();
        json!({
            "kty": "EC", "kid": self.kid, "use": "sig", "alg": "ES256", "crv": "P-256",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        })
    }

    pub fn token(&self, payload: &Value) -> String {
        let input = signing_input(&json!({"alg": "ES256", "kid": self.kid}), payload);
        let sig = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

pub fn signing_input(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}",
        b64(serde_json::to_vec(header).unwrap()),
        b64(serde_json::to_vec(payload).unwrap())
    )
}

/// An HS256 token over `header`/`payload` with `secret`.
pub fn hs256(header: &Value, payload: &Value, secret: &[u8]) -> String {
    let input = signing_input(header, payload);
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// Keys are slow to generate in a debug build: each test binary makes them once.
pub static ID_KEY: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate("id-key-1"));
pub static ACCESS_KEY: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate("access-key-1"));
pub static ROTATED_KEY: LazyLock<RsaKey> = LazyLock::new(|| RsaKey::generate("rotated-key-2"));
pub static EC_KEY: LazyLock<EcKey> = LazyLock::new(|| EcKey::generate("ec-key-1"));

/// Cognito-shaped ID token claims for `sub`, valid for an hour.
pub fn id_claims() -> Value {
    let now = now();
    json!({
        "sub": "0f1e2d3c-user", "aud": CLIENT, "iss": issuer(), "token_use": "id",
        "cognito:username": "alice", "email": "alice@example.com", "email_verified": true,
        "cognito:groups": ["readers"], "auth_time": now, "iat": now, "exp": now + 3600,
        "jti": "j-1", "origin_jti": "o-1",
    })
}

/// Cognito-shaped access token claims (no `aud`, a `client_id`).
pub fn access_claims() -> Value {
    let now = now();
    json!({
        "sub": "0f1e2d3c-user", "client_id": CLIENT, "iss": issuer(), "token_use": "access",
        "username": "alice", "scope": "aws.cognito.signin.user.admin", "auth_time": now,
        "iat": now, "exp": now + 3600, "jti": "j-2", "origin_jti": "o-1",
    })
}

/// Sets `claims[name] = value`.
pub fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

/// What the mock JWKS endpoint does.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub keys: Vec<Value>,
    pub fail: bool,
    pub delay: Duration,
}

#[derive(Clone)]
struct Shared {
    behaviour: Arc<Mutex<Behaviour>>,
    fetches: Arc<AtomicUsize>,
}

/// A JWKS endpoint on 127.0.0.1 with a port chosen at run time.
pub struct JwksServer {
    pub url: String,
    behaviour: Arc<Mutex<Behaviour>>,
    fetches: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    pub async fn start(keys: Vec<Value>) -> Self {
        let shared = Shared {
            behaviour: Arc::new(Mutex::new(Behaviour {
                keys,
                fail: false,
                delay: Duration::ZERO,
            })),
            fetches: Arc::new(AtomicUsize::new(0)),
        };
        let app = Router::new()
            .route("/pool/.well-known/jwks.json", get(serve_jwks))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}/pool/.well-known/jwks.json"),
            behaviour: shared.behaviour,
            fetches: shared.fetches,
            task,
        }
    }

    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    pub fn set_keys(&self, keys: Vec<Value>) {
        self.behaviour.lock().unwrap().keys = keys;
    }

    pub fn set_failing(&self, fail: bool) {
        self.behaviour.lock().unwrap().fail = fail;
    }

    pub fn set_delay(&self, delay: Duration) {
        self.behaviour.lock().unwrap().delay = delay;
    }

    /// Makes every later fetch hang without an answer, as a stalled endpoint does. (tokio
    /// turns an overlong sleep into one that ends in the far future.)
    pub fn stall(&self) {
        self.set_delay(Duration::MAX);
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_jwks(State(shared): State<Shared>) -> Response {
    shared.fetches.fetch_add(1, Ordering::SeqCst);
    let behaviour = shared.behaviour.lock().unwrap().clone();
    tokio::time::sleep(behaviour.delay).await;
    if behaviour.fail {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    axum::Json(json!({ "keys": behaviour.keys })).into_response()
}
