//! Public keys parsed once, so a verification costs one signature check and no key parsing.
//!
//! jsonwebtoken rebuilds the RSA key from `n`/`e` on every call, which measured about a third
//! of a Cognito token's verification time. Here each JWK gets, per algorithm, an aws-lc-rs
//! (jsonwebtoken's own backend) `ParsedPublicKey` built on first use and kept with the key set.
//! When a key cannot be parsed for an algorithm, verification falls back to jsonwebtoken.

use std::sync::OnceLock;

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, DecodingKeyKind};

use crate::JwsAlgorithm;

/// A verification key with its parsed forms, one slot per algorithm.
pub(crate) struct VerifyKey {
    key: DecodingKey,
    parsed: [OnceLock<Option<ParsedPublicKey>>; JwsAlgorithm::ALL.len()],
}

impl VerifyKey {
    pub fn new(key: DecodingKey) -> Self {
        Self {
            key,
            parsed: Default::default(),
        }
    }

    /// Whether `signature` (base64url) signs `message` under `alg`.
    pub fn verify(&self, alg: JwsAlgorithm, message: &[u8], signature: &str) -> bool {
        match self.parsed(alg) {
            Some(parsed) => URL_SAFE_NO_PAD
                .decode(signature)
                .is_ok_and(|sig| parsed.verify_sig(message, &sig).is_ok()),
            None => {
                jsonwebtoken::crypto::verify(signature, message, &self.key, alg.to_jsonwebtoken())
                    .unwrap_or(false)
            }
        }
    }

    fn parsed(&self, alg: JwsAlgorithm) -> Option<&ParsedPublicKey> {
        let slot = JwsAlgorithm::ALL.iter().position(|a| *a == alg)?;
        self.parsed
            .get(slot)?
            .get_or_init(|| parse(alg, &self.key))
            .as_ref()
    }
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey").finish_non_exhaustive()
    }
}

fn parse(alg: JwsAlgorithm, key: &DecodingKey) -> Option<ParsedPublicKey> {
    let algorithm: &'static dyn VerificationAlgorithm = match alg {
        JwsAlgorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        JwsAlgorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        JwsAlgorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        JwsAlgorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
        JwsAlgorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
        JwsAlgorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
        JwsAlgorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
        JwsAlgorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED,
        JwsAlgorithm::EdDSA => &sig::ED25519,
    };
    let bytes = match key.kind() {
        DecodingKeyKind::RsaModulusExponent { n, e } => rsa_public_key_der(n, e),
        // EC: the uncompressed point; Ed25519: the raw public key.
        DecodingKeyKind::SecretOrDer(bytes) => bytes.clone(),
    };
    ParsedPublicKey::new(algorithm, bytes).ok()
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` in DER.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    der_unsigned(n, &mut body);
    der_unsigned(e, &mut body);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    der_length(body.len(), &mut out);
    out.extend_from_slice(&body);
    out
}

fn der_unsigned(bytes: &[u8], out: &mut Vec<u8>) {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let digits = &bytes[start..];
    // A set top bit would read as negative: DER prefixes a zero byte.
    let pad = digits.first().is_none_or(|b| b & 0x80 != 0);
    out.push(0x02);
    der_length(digits.len() + usize::from(pad), out);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
}

fn der_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, RsaKeyPair};

    #[test]
    fn keys_from_jwk_components_are_parsed_once_and_verify() {
        let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let public = rsa.public_key();
        let key = VerifyKey::new(DecodingKey::from_rsa_raw_components(
            public.modulus().big_endian_without_leading_zero(),
            public.exponent().big_endian_without_leading_zero(),
        ));
        assert!(
            key.parsed(JwsAlgorithm::RS256).is_some(),
            "fast path in use"
        );
        assert!(key.parsed(JwsAlgorithm::ES256).is_none());
        let mut signature = vec![0; rsa.public_modulus_len()];
        rsa.sign(
            &sig::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            b"msg",
            &mut signature,
        )
        .unwrap();
        let signature = URL_SAFE_NO_PAD.encode(signature);
        assert!(key.verify(JwsAlgorithm::RS256, b"msg", &signature));
        assert!(!key.verify(JwsAlgorithm::RS256, b"msh", &signature));
        assert!(!key.verify(JwsAlgorithm::PS256, b"msg", &signature));

        let ec = EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let key = VerifyKey::new(DecodingKey::from_ec_der(ec.public_key().as_ref()));
        assert!(key.parsed(JwsAlgorithm::ES256).is_some());
        let signature = URL_SAFE_NO_PAD.encode(ec.sign(&SystemRandom::new(), b"m").unwrap());
        assert!(key.verify(JwsAlgorithm::ES256, b"m", &signature));
        assert!(!key.verify(JwsAlgorithm::ES384, b"m", &signature));
    }

    #[test]
    fn der_integers_and_lengths() {
        let mut out = Vec::new();
        der_unsigned(&[0x00, 0x7f], &mut out);
        assert_eq!(out, [0x02, 0x01, 0x7f]);
        out.clear();
        der_unsigned(&[0x80], &mut out);
        assert_eq!(out, [0x02, 0x02, 0x00, 0x80]);
        out.clear();
        der_length(0x1234, &mut out);
        assert_eq!(out, [0x82, 0x12, 0x34]);
        out.clear();
        der_length(0x81, &mut out);
        assert_eq!(out, [0x81, 0x81]);
    }
}
