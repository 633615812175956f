//! Taking a compact JWS apart before anything is trusted: shape, header, payload.
//!
//! The checks follow the reference verifier (aws-jwt-verify) with one deliberate change of
//! order: `alg: none` is reported as such before the empty-signature check, because an
//! unsigned token is the more useful diagnosis for the usual `header.payload.` forgery.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::AuthError;

/// A token that has the right shape but whose signature has not been checked yet.
pub(crate) struct UnverifiedToken<'a> {
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    /// The signature, still base64url.
    pub signature: &'a str,
    /// The header's `alg`.
    pub alg: String,
    /// The header's `kid`, when present.
    pub kid: Option<String>,
    /// The decoded payload.
    pub payload: Map<String, Value>,
}

/// Splits and decodes `token`; every failure has its own [`AuthError`].
pub(crate) fn parse(token: &str) -> Result<UnverifiedToken<'_>, AuthError> {
    let parts = token.split('.').count();
    if parts != 3 {
        return Err(AuthError::WrongPartCount { found: parts });
    }
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or(AuthError::WrongPartCount { found: parts })?;
    let (header_b64, payload_b64) = signing_input
        .split_once('.')
        .ok_or(AuthError::WrongPartCount { found: parts })?;

    let header = decode_object(header_b64, "header", AuthError::HeaderNotJson)?;
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.clone(),
        _ => return Err(AuthError::MissingAlgorithm),
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(AuthError::UnsecuredAlgorithm);
    }
    if signature.is_empty() {
        return Err(AuthError::MissingSignature);
    }
    if !is_base64url(signature) {
        return Err(AuthError::NotBase64Url { part: "signature" });
    }
    let payload = decode_object(payload_b64, "payload", AuthError::PayloadNotJson)?;
    let kid = match header.get("kid") {
        Some(Value::String(kid)) => Some(kid.clone()),
        _ => None,
    };
    Ok(UnverifiedToken {
        signing_input,
        signature,
        alg,
        kid,
        payload,
    })
}

fn decode_object(
    part: &str,
    name: &'static str,
    not_json: AuthError,
) -> Result<Map<String, Value>, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::NotBase64Url { part: name })?;
    serde_json::from_slice::<Map<String, Value>>(&bytes).map_err(|_| not_json)
}

/// The signature is decoded by the crypto layer; here we only refuse other alphabets early,
/// so a bad encoding is not reported as a bad signature.
fn is_base64url(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn b64(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    fn err(token: &str) -> AuthError {
        parse(token).err().expect("must fail")
    }

    #[test]
    fn shapes_are_checked_in_order() {
        let header = b64(r#"{"alg":"RS256","kid":"k1"}"#);
        let payload = b64(r#"{"sub":"u"}"#);
        assert_eq!(err("a.b"), AuthError::WrongPartCount { found: 2 });
        assert_eq!(err("a.b.c.d"), AuthError::WrongPartCount { found: 4 });
        assert_eq!(
            err(&format!("{}.{payload}.c2ln", b64("not json"))),
            AuthError::HeaderNotJson
        );
        assert_eq!(
            err(&format!("{}.{payload}.c2ln", b64("[1]"))),
            AuthError::HeaderNotJson
        );
        assert_eq!(
            err(&format!("%%.{payload}.c2ln")),
            AuthError::NotBase64Url { part: "header" }
        );
        assert_eq!(
            err(&format!("{}.{payload}.c2ln", b64(r#"{"kid":"k"}"#))),
            AuthError::MissingAlgorithm
        );
        assert_eq!(
            err(&format!("{}.{payload}.", b64(r#"{"alg":"none"}"#))),
            AuthError::UnsecuredAlgorithm
        );
        assert_eq!(
            err(&format!("{header}.{payload}.")),
            AuthError::MissingSignature
        );
        assert_eq!(
            err(&format!("{header}.{payload}.c2ln+/=")),
            AuthError::NotBase64Url { part: "signature" }
        );
        assert_eq!(
            err(&format!("{header}.{}.c2ln", b64("42"))),
            AuthError::PayloadNotJson
        );
        let text = format!("{header}.{payload}.c2ln");
        let ok = parse(&text).unwrap();
        assert_eq!(ok.alg, "RS256");
        assert_eq!(ok.kid.as_deref(), Some("k1"));
        assert_eq!(ok.signing_input, format!("{header}.{payload}"));
        assert_eq!(ok.payload["sub"], "u");
    }
}
