//! CORS with `LINK_CORS_ORIGINS`: the listed origin gets its preflight answered and may read
//! the request id and rate-limit headers; any other origin is granted nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use support::Stack;

const ALLOWED: &str = "https://a.example";

/// The comma-separated list of a header, lower-cased.
fn list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .unwrap_or_default()
        .split(',')
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

/// The headers that grant an origin anything. (tower-http also sends the allowed methods
/// and headers, and the exposed headers, to any origin; without `Access-Control-Allow-Origin`
/// a browser lets the origin use none of them.)
fn grants(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| {
            name.starts_with("access-control-allow-origin")
                || name.starts_with("access-control-allow-credentials")
        })
        .collect()
}

async fn preflight(url: &str, origin: &str) -> reqwest::Response {
    Client::new()
        .request(Method::OPTIONS, format!("{url}/v1/conversations"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, x-request-id",
        )
        .send()
        .await
        .unwrap()
}

async fn listing(s: &Stack, origin: &str) -> reqwest::Response {
    let token = s.server.token("alice").await;
    Client::new()
        .get(format!("{}/v1/conversations", s.server.url))
        .bearer_auth(token)
        .header("origin", origin)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_listed_origin_is_allowed_and_may_read_the_rate_limit_and_request_id() {
    let s = Stack::start(vec![("LINK_CORS_ORIGINS", ALLOWED.into())]).await;
    let answer = preflight(&s.server.url, ALLOWED).await;
    assert!(answer.status().is_success(), "{}", answer.status());
    let headers = answer.headers();
    assert_eq!(headers["access-control-allow-origin"], ALLOWED);
    let methods = list(headers, "access-control-allow-methods");
    for method in ["get", "post", "delete"] {
        assert!(methods.contains(&method.to_owned()), "{methods:?}");
    }
    let allowed = list(headers, "access-control-allow-headers");
    for header in ["authorization", "content-type", "x-request-id"] {
        assert!(allowed.contains(&header.to_owned()), "{allowed:?}");
    }

    let response = listing(&s, ALLOWED).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], ALLOWED);
    let exposed = list(headers, "access-control-expose-headers");
    for header in [
        "x-request-id",
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
    ] {
        assert!(exposed.contains(&header.to_owned()), "{exposed:?}");
    }
    // What is exposed is there to read.
    assert!(headers.contains_key("ratelimit-remaining"));
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn another_origin_is_granted_nothing() {
    let s = Stack::start(vec![("LINK_CORS_ORIGINS", ALLOWED.into())]).await;
    for origin in [
        "https://b.example",
        "https://a.example.evil",
        "http://a.example",
    ] {
        let answer = preflight(&s.server.url, origin).await;
        assert_eq!(grants(answer.headers()), Vec::<String>::new(), "{origin}");
        let response = listing(&s, origin).await;
        assert_eq!(response.status(), 200, "the request itself is served");
        assert_eq!(grants(response.headers()), Vec::<String>::new(), "{origin}");
    }
}
