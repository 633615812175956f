//! SigV4 checked as Bedrock checks it: the `Authorization` header's scope names the date,
//! the region and the service `bedrock`; `host` and `x-amz-date` are signed; the date is
//! well-formed and recent; and the signature is recomputed with the client's secret key
//! (the SDK's test credentials, unless set up otherwise).

use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, Method, Uri};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// What a request must be signed with.
#[derive(Debug, Clone)]
pub struct Signing {
    /// The region of the credential scope.
    pub region: String,
    /// The secret key to recompute signatures with; `None` checks only their shape.
    pub secret: Option<String>,
}

/// The secret key of `aws_config`'s `test_credentials()` (`Credentials::for_tests`).
pub const TEST_SECRET: &str = "notrealrnrELgWzOk3IfjzDKtFBhDby";

/// How far `x-amz-date` may be from now, as AWS allows.
const SKEW: Duration = Duration::from_secs(15 * 60);

/// Why a request's signature is refused: (error type, message), as AWS words them.
pub type Refusal = (&'static str, String);

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct Authorization<'a> {
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse(header: &str) -> Option<Authorization<'_>> {
    let rest = header.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim) {
        let (key, value) = part.split_once('=')?;
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed = Some(value),
            "Signature" => signature = Some(value),
            _ => return None,
        }
    }
    let scope: Vec<&str> = credential?.split('/').collect();
    let [_key_id, date, region, service, "aws4_request"] = scope.as_slice() else {
        return None;
    };
    Some(Authorization {
        date,
        region,
        service,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    })
}

/// Checks the request's signature; `Err` holds the refusal AWS would send (403).
pub fn verify(
    signing: &Signing,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Refusal> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let missing = || {
        (
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".to_owned(),
        )
    };
    let auth = parse(header("authorization").ok_or_else(missing)?).ok_or_else(missing)?;
    let incomplete = |what: &str| ("IncompleteSignatureException", what.to_owned());
    if auth.service != "bedrock" || auth.region != signing.region {
        return Err(incomplete(&format!(
            "Credential should be scoped to a valid region and to the service 'bedrock', not '{}/{}'.",
            auth.region, auth.service
        )));
    }
    for needed in ["host", "x-amz-date"] {
        if !auth.signed_headers.contains(&needed) {
            return Err(incomplete(&format!("'{needed}' must be a signed header.")));
        }
    }
    let amz_date = header("x-amz-date").ok_or_else(|| incomplete("x-amz-date missing"))?;
    check_date(amz_date, auth.date)?;
    let hex_sig = auth.signature.len() == 64
        && auth
            .signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex_sig {
        return Err(incomplete("Signature must be 64 lowercase hex digits."));
    }
    let Some(secret) = &signing.secret else {
        return Ok(());
    };
    let canonical = canonical_request(method, uri, headers, &auth.signed_headers, body);
    let scope = format!("{}/{}/bedrock/aws4_request", auth.date, auth.region);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let expected = signature(secret, auth.date, auth.region, &to_sign);
    if expected != auth.signature {
        return Err((
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".to_owned(),
        ));
    }
    Ok(())
}

/// `x-amz-date` is `YYYYMMDDTHHMMSSZ`, on the scope's day, within [`SKEW`] of now.
fn check_date(amz_date: &str, scope_date: &str) -> Result<(), Refusal> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let parsed = time::PrimitiveDateTime::parse(amz_date, &format).map_err(|_| {
        (
            "IncompleteSignatureException",
            format!("Date must be in ISO-8601 'basic format'. Got '{amz_date}'."),
        )
    })?;
    if !amz_date.starts_with(scope_date) {
        return Err((
            "InvalidSignatureException",
            "Credential should be scoped to the date of x-amz-date.".to_owned(),
        ));
    }
    let signed_at = SystemTime::UNIX_EPOCH
        + Duration::from_secs(parsed.assume_utc().unix_timestamp().max(0) as u64);
    let now = SystemTime::now();
    let off = now
        .duration_since(signed_at)
        .or_else(|_| signed_at.duration_since(now))
        .unwrap_or_default();
    if off > SKEW {
        return Err((
            "InvalidSignatureException",
            format!(
                "Signature expired: {amz_date} is now earlier or later than the allowed 15 minutes."
            ),
        ));
    }
    Ok(())
}

/// The canonical request of SigV4 (path encoded a second time, as for every service but S3).
fn canonical_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    signed: &[&str],
    body: &[u8],
) -> String {
    let path = encode(uri.path(), false);
    let mut query: Vec<(String, String)> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (encode(k, true), encode(v, true))
        })
        .collect();
    query.sort();
    let query: Vec<String> = query.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    let canonical_headers: String = signed
        .iter()
        .map(|name| {
            let values: Vec<String> = headers
                .get_all(*name)
                .iter()
                .map(|v| collapse(v.to_str().unwrap_or_default()))
                .collect();
            format!("{name}:{}\n", values.join(","))
        })
        .collect();
    let payload = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| hex::encode(Sha256::digest(body)));
    format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{}\n{payload}",
        query.join("&"),
        signed.join(";")
    )
}

/// Percent-encodes all but the unreserved characters (and `/` unless `slash`).
fn encode(text: &str, slash: bool) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b'/' if !slash => "/".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Trims a header value and collapses its runs of spaces.
fn collapse(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The hex signature of `to_sign` with the key derived from `secret` for this scope.
fn signature(secret: &str, date: &str, region: &str, to_sign: &str) -> String {
    let key = hmac(format!("AWS4{secret}").as_bytes(), date);
    let key = hmac(&key, region);
    let key = hmac(&key, "bedrock");
    let key = hmac(&key, "aws4_request");
    hex::encode(hmac(&key, to_sign))
}
