//! The chat page: HTML, CSS and JavaScript embedded in the binary (no build step, nothing
//! from a CDN), served with a strict Content-Security-Policy and ETag revalidation.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

/// Only same-origin scripts, styles and connections; no inline script, no framing. Images
/// may also be `blob:` URLs: the page fetches a character's picture with the session's token
/// (an `<img>` cannot send one) and shows it from a blob it made.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    etag: String,
}

impl Asset {
    fn new(body: &'static [u8], content_type: &'static str) -> Self {
        let digest = Sha256::digest(body);
        Self {
            body,
            content_type,
            etag: format!("\"{}\"", hex::encode(&digest[..12])),
        }
    }
}

static INDEX: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("../web/index.html"),
        "text/html; charset=utf-8",
    )
});
static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("../web/app.js"),
        "text/javascript; charset=utf-8",
    )
});
static STYLE: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(include_bytes!("../web/app.css"), "text/css; charset=utf-8"));
static ICON: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(include_bytes!("../web/favicon.svg"), "image/svg+xml"));

/// The page's routes: `/`, `/app.js`, `/app.css`, `/favicon.svg`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|h: HeaderMap| async move { serve(&INDEX, &h) }))
        .route(
            "/app.js",
            get(|h: HeaderMap| async move { serve(&SCRIPT, &h) }),
        )
        .route(
            "/app.css",
            get(|h: HeaderMap| async move { serve(&STYLE, &h) }),
        )
        .route(
            "/favicon.svg",
            get(|h: HeaderMap| async move { serve(&ICON, &h) }),
        )
}

/// The asset, or a 304 when the client's copy is current. `no-cache` makes browsers
/// revalidate every time, so a new binary's page is never mixed with an old script.
fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
        headers.insert(header::ETAG, etag);
    }
    let current = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == asset.etag || tag.trim() == "*");
    if current {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    (headers, asset.body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_carry_type_policy_and_revalidate() {
        let response = serve(&SCRIPT, &HeaderMap::new());
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        assert!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .starts_with("default-src 'self'")
        );
        let etag = headers[header::ETAG].clone();
        let mut conditional = HeaderMap::new();
        conditional.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(
            serve(&SCRIPT, &conditional).status(),
            StatusCode::NOT_MODIFIED
        );
        conditional.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"old\""));
        assert_eq!(serve(&SCRIPT, &conditional).status(), StatusCode::OK);
    }

    /// Whether some attribute looks like ` onclick=`.
    fn has_inline_handler(html: &str) -> bool {
        html.match_indices(" on").any(|(at, _)| {
            let rest = &html[at + 3..];
            let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        })
    }

    #[test]
    fn the_page_has_no_inline_script_and_no_remote_assets() {
        let html = std::str::from_utf8(INDEX.body).unwrap();
        assert!(html.contains("<script src=\"app.js\" defer></script>"));
        assert_eq!(
            html.matches("<script").count(),
            1,
            "only the one external script"
        );
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!has_inline_handler(html), "no inline event handlers");
        let script = std::str::from_utf8(SCRIPT.body).unwrap();
        assert!(
            !script.contains("innerHTML"),
            "model text is never parsed as HTML"
        );
        assert!(!script.contains("insertAdjacentHTML"));
    }
}
