//! Keys made in-process and Cognito-shaped tokens signed with them.
//!
//! Cognito signs RS256 with 2048-bit keys; its ID tokens carry `aud` = the app client id and
//! `token_use: "id"` (WIRE.md). The P-256 key exists for the ES256 verification benchmark.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::BenchError;

/// The region the bench pool pretends to live in.
pub const REGION: &str = "us-east-1";
/// The bench user pool id.
pub const POOL: &str = "us-east-1_BenchPool";
/// The bench app client id.
pub const CLIENT: &str = "bench-client";

/// The issuer Cognito would put in tokens of [`POOL`].
pub fn issuer() -> String {
    format!("https://cognito-idp.{REGION}.amazonaws.com/{POOL}")
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn crypto(e: impl std::fmt::Display) -> BenchError {
    BenchError::Crypto(e.to_string())
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn signing_input(header: &Value, payload: &Value) -> Result<String, BenchError> {
    Ok(format!(
        "{}.{}",
        b64(serde_json::to_vec(header)?),
        b64(serde_json::to_vec(payload)?)
    ))
}

/// An RSA-2048 key with its `kid`.
#[derive(Debug)]
pub struct RsaKey {
    /// The key id put in the JWK and in token headers.
    pub kid: String,
    pair: RsaKeyPair,
}

impl RsaKey {
    /// A fresh key (a few hundred milliseconds in a release build).
    pub fn generate(kid: &str) -> Result<Self, BenchError> {
        Ok(Self {
            kid: kid.into(),
            pair: RsaKeyPair::generate(KeySize::Rsa2048).map_err(crypto)?,
        })
    }

    /// The public key as a JWKS entry.
    pub fn jwk(&self) -> Value {
        let public = self.pair.public_key();
        json!({
            "kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// An RS256 token over `claims` with this key's `kid`.
    pub fn token(&self, claims: &Value) -> Result<String, BenchError> {
        let input = signing_input(&json!({"alg": "RS256", "kid": self.kid}), claims)?;
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(crypto)?;
        Ok(format!("{input}.{}", b64(signature)))
    }
}

/// A P-256 key with its `kid`.
#[derive(Debug)]
pub struct EcKey {
    /// The key id put in the JWK and in token headers.
    pub kid: String,
    pair: EcdsaKeyPair,
}

impl EcKey {
    /// A fresh key.
    pub fn generate(kid: &str) -> Result<Self, BenchError> {
        Ok(Self {
            kid: kid.into(),
            pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(crypto)?,
        })
    }

    /// The public key as a JWKS entry.
    pub fn jwk(&self) -> Value {
        // An uncompressed SEC1 point: 0x04, then x and y, 32 bytes each.
        let point = self.pair.public_key().as_ref();
        let x = point.get(1..33).unwrap_or_default();
        let y = point.get(33..65).unwrap_or_default();
        json!({
            "kty": "EC", "kid": self.kid, "use": "sig", "alg": "ES256", "crv": "P-256",
            "x": b64(x), "y": b64(y),
        })
    }

    /// An ES256 token over `claims` with this key's `kid`.
    pub fn token(&self, claims: &Value) -> Result<String, BenchError> {
        let input = signing_input(&json!({"alg": "ES256", "kid": self.kid}), claims)?;
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(crypto)?;
        Ok(format!("{input}.{}", b64(signature.as_ref())))
    }
}

/// Cognito-shaped ID token claims for `sub`, valid for `ttl_secs`.
pub fn id_claims(sub: &str, ttl_secs: u64) -> Value {
    let now = unix_now();
    json!({
        "sub": sub, "aud": CLIENT, "iss": issuer(), "token_use": "id",
        "cognito:username": sub, "auth_time": now, "iat": now, "exp": now + ttl_secs,
        "jti": format!("jti-{sub}-{now}"), "origin_jti": format!("origin-{sub}"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_have_three_parts_and_keys_have_their_fields() {
        let ec = EcKey::generate("ec").unwrap();
        let jwk = ec.jwk();
        assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
        assert_eq!(jwk["y"].as_str().unwrap().len(), 43);
        assert_eq!(ec.token(&id_claims("u", 60)).unwrap().split('.').count(), 3);
    }
}
