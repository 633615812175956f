//! Who is calling and whether they may, for every protected route: the bearer token is
//! verified, the request is counted against the caller's quota, and the decision travels to
//! the engine in the request's [`RequestContext`] (the engine enforces it and audits a denial
//! as the action it refused). The `RateLimit-*` headers are set here and nowhere else, on
//! whatever the route answered. A route that calls a model also takes one of the caller's
//! model-call slots ([`ModelCalls`]) for as long as its answer runs, or is refused here. The
//! account routes, which have no user yet, are counted per client address by the same
//! mechanism and refused here.

mod concurrency;

pub use concurrency::{ModelCalls, Slot, hold};

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::{IpNet, Ipv6Net};
use link::{AuditAction, Error, Principal, RateDecision, RateLimiter, RequestContext, RequestId};

use crate::error::ApiError;
use crate::request_id::ClientRequestId;
use crate::state::AppState;

/// The authenticated caller of a request, with the request's id and its admission: what the
/// handlers of protected routes take.
#[derive(Debug, Clone)]
pub struct Caller(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        // Present on every route behind `users`; its absence is a routing mistake, and the
        // safe answer to a mistake is "not authenticated".
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .map(Caller)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// Middleware of the protected routes: authenticate, take a model-call slot if the route
/// calls a model, admit, run, add the headers.
pub async fn users(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .cloned()
        .unwrap_or_else(RequestId::generate);
    let principal = match authenticate(&state, request.headers()).await {
        Ok(principal) => principal,
        Err(refused) => return refused.into_response(),
    };
    let demand = Demand::of(&request);
    // Before the rate limit: a call refused for running too many at once costs nothing.
    let slot = match model_call_slot(&request, demand, &principal) {
        Ok(slot) => slot,
        Err(refused) => return refused.into_response(),
    };
    let decision = (state.link.rate_limiter()).admit(&principal, demand.cost, demand.model);
    let mut ctx = RequestContext::new(principal)
        .with_request_id(request_id)
        .admitted(decision);
    if let Some(ClientRequestId(client)) = request.extensions().get::<ClientRequestId>() {
        ctx = ctx.with_client_request_id(client);
    }
    request.extensions_mut().insert(ctx);
    let response = with_headers(next.run(request).await, decision);
    match slot {
        Some(slot) => hold(response, slot),
        None => response,
    }
}

/// What a protected route asks of its caller, known before it runs: the request is counted
/// here, where the `RateLimit-*` headers are made, so its cost follows the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Demand {
    /// Its cost against the rate limit, in requests (the engine's [`AuditAction::cost`]).
    cost: u32,
    /// Whether it calls a model (a persona extraction or a reply): it then takes a model-call
    /// slot and needs tokens left under a daily quota.
    model: bool,
}

impl Demand {
    /// The demand of the route `request` was routed to.
    fn of(request: &Request) -> Self {
        let route = (request.extensions().get::<MatchedPath>()).map_or("", |p| p.as_str());
        Self::of_route(request.method(), route)
    }

    fn of_route(method: &Method, route: &str) -> Self {
        let action = match (method, route) {
            // Starting a conversation, and the seed's endpoint, may extract a persona: only
            // the body says, so they cost what an extraction costs.
            (&Method::POST, "/v1/personas" | "/v1/conversations" | "/v1/chat") => {
                Some(AuditAction::ExtractPersona)
            }
            (
                &Method::POST,
                "/v1/conversations/{id}/messages"
                | "/v1/chat/completions"
                | "/v1/conversations/{id}/regenerate"
                | "/v1/conversations/{id}/messages/{message_id}/resend",
            ) => Some(AuditAction::SendMessage),
            _ => None,
        };
        match action {
            Some(action) => Self {
                cost: action.cost(),
                model: true,
            },
            None => Self {
                cost: 1,
                model: false,
            },
        }
    }
}

/// A model-call slot of the caller for a route that calls a model (`None` for one that does
/// not, or without a [`ModelCalls`] in the request); a 429 when the caller has none free.
fn model_call_slot(
    request: &Request,
    demand: Demand,
    principal: &Principal,
) -> Result<Option<Slot>, ApiError> {
    let Some(calls) = request.extensions().get::<Arc<ModelCalls>>() else {
        return Ok(None);
    };
    if !demand.model {
        return Ok(None);
    }
    match calls.try_start(&principal.sub) {
        Some(slot) => Ok(Some(slot)),
        None => {
            tracing::info!(
                max = calls.max(),
                "request refused: the caller's model calls are all running"
            );
            Err(ApiError::from(Error::QuotaExceeded {
                message: format!(
                    "too many model calls at once: at most {} per user; wait for one to finish",
                    calls.max()
                ),
                retry_after: Duration::from_secs(1),
            }))
        }
    }
}

/// Middleware of the account routes (Cognito mode): counted per client address; a denial is
/// answered here, before anything reaches Cognito.
pub async fn accounts(
    State(state): State<AppState>,
    ip: ClientIp,
    request: Request,
    next: Next,
) -> Response {
    // Outside Cognito mode the routes only say that accounts do not exist here.
    let active = state.accounts.is_some();
    limited_per_ip(&state, active, &ip, request, next).await
}

/// Middleware of the dev token route (dev mode): counted per client address like the account
/// routes, so that nobody mints tokens (each an HMAC signature) in bulk.
pub async fn dev_tokens(
    State(state): State<AppState>,
    ip: ClientIp,
    request: Request,
    next: Next,
) -> Response {
    // Outside dev mode the route only says that it mints nothing here.
    let active = state.dev.is_some();
    limited_per_ip(&state, active, &ip, request, next).await
}

/// Counts an `active` route's request against `ip`'s bucket of the state's per-IP limiter: a
/// denial is answered here, with the headers; otherwise the route runs and its answer gets
/// them.
async fn limited_per_ip(
    state: &AppState,
    active: bool,
    ip: &ClientIp,
    request: Request,
    next: Next,
) -> Response {
    let Some(limiter) = state.per_ip.as_deref().filter(|_| active) else {
        return next.run(request).await;
    };
    let decision = limiter.check(&ip.principal());
    if let RateDecision::Denied { retry_after, .. } = decision {
        tracing::info!(path = %request.uri().path(), "request refused: per-IP rate limit");
        let refused = ApiError::from(Error::RateLimited { retry_after }).into_response();
        return with_headers(refused, decision);
    }
    with_headers(next.run(request).await, decision)
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let Some(token) = bearer(headers) else {
        tracing::info!("request without a bearer token refused");
        return Err(ApiError::unauthorized());
    };
    state.auth.authenticate(token).await.map_err(|error| {
        // The reason names the failed check, never the token or its claims.
        tracing::info!(reason = %error, "bearer token refused");
        ApiError::unauthorized()
    })
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Sets `RateLimit-Limit`, `RateLimit-Remaining` and, when denied, `RateLimit-Reset`
/// (seconds until the next request is allowed).
fn with_headers(mut response: Response, decision: RateDecision) -> Response {
    let (limit, remaining, reset) = match decision {
        RateDecision::Allowed { limit, remaining } => (limit, remaining, None),
        RateDecision::Denied { limit, retry_after } => (limit, 0, Some(retry_after.as_secs())),
        // The rate was not counted: the answer's `Retry-After` says when tokens are back.
        RateDecision::Exhausted { .. } => return response,
    };
    // An unlimited limiter reports u32::MAX: such headers would only confuse clients.
    if limit == u32::MAX {
        return response;
    }
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit", HeaderValue::from(limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
    if let Some(reset) = reset {
        headers.insert("ratelimit-reset", HeaderValue::from(reset));
    }
    response
}

/// The proxies whose `X-Forwarded-For` is believed (`LINK_TRUSTED_PROXIES`), put in every
/// request's extensions by the router. Empty by default: the socket peer (or, on Lambda, API
/// Gateway's source address) is the client, whatever the headers say.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<[IpNet]>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`: the peer itself unless it is a trusted proxy; then the
    /// right-most `X-Forwarded-For` hop that is not one (each trusted proxy appends the
    /// address it saw, so hops further left are the client's own claims).
    fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        hops.iter()
            .rev()
            .find(|hop| !self.trusts(**hop))
            .or(hops.first())
            .copied()
            .unwrap_or(peer)
    }
}

/// The client's address, the key of the per-IP account rate limit (see [`TrustedProxies`]).
/// `None` when the server knows no peer at all (then all such clients share one bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The limiter's key for this address. An IPv6 client is keyed by its /64: one host
    /// usually holds the whole prefix, so each of its addresses must not be a new bucket.
    fn principal(&self) -> Principal {
        let key = match self.0 {
            Some(IpAddr::V4(ip)) => ip.to_string(),
            Some(IpAddr::V6(ip)) => match Ipv6Net::new(ip, 64) {
                Ok(net) => net.trunc().to_string(),
                Err(_) => ip.to_string(),
            },
            None => "unknown".to_owned(),
        };
        Principal::new(format!("ip:{key}"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(Self(None));
        };
        let proxies = parts
            .extensions
            .get::<TrustedProxies>()
            .cloned()
            .unwrap_or_default();
        Ok(Self(Some(proxies.client(addr.ip(), &parts.headers))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request as HttpRequest;

    #[test]
    fn bearer_tokens_are_read_strictly() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, "Bearer abc.def.ghi".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc.def.ghi"));
        headers.insert(AUTHORIZATION, "bearer  xyz ".parse().unwrap());
        assert_eq!(bearer(&headers), Some("xyz"));
        headers.insert(AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }

    async fn ip_of(request: HttpRequest<()>) -> Option<IpAddr> {
        let (mut parts, ()) = request.into_parts();
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(&mut parts, &()).await;
        ip
    }

    fn from_peer(peer: [u8; 4], forwarded: &str, trusted: &[&str]) -> HttpRequest<()> {
        let mut request = HttpRequest::builder()
            .header("x-forwarded-for", forwarded)
            .body(())
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((peer, 5000))));
        let nets: Vec<IpNet> = trusted.iter().map(|n| n.parse().unwrap()).collect();
        request.extensions_mut().insert(TrustedProxies(nets.into()));
        request
    }

    #[tokio::test]
    async fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // Nobody trusted: the header is the client's own claim and is ignored.
        let request = from_peer([10, 1, 2, 3], "9.9.9.9", &[]);
        assert_eq!(ip_of(request).await, ip("10.1.2.3"));
        // A trusted proxy: the right-most hop it did not add itself.
        let request = from_peer([10, 1, 2, 3], "6.6.6.6, 203.0.113.7", &["10.0.0.0/8"]);
        assert_eq!(ip_of(request).await, ip("203.0.113.7"));
        // A chain of trusted proxies is skipped; a spoofed left-most hop is not believed.
        let request = from_peer(
            [10, 1, 2, 3],
            "1.1.1.1, 203.0.113.7, 10.9.9.9",
            &["10.0.0.0/8"],
        );
        assert_eq!(ip_of(request).await, ip("203.0.113.7"));
        // An untrusted peer sending the header is still the client.
        let request = from_peer([192, 0, 2, 1], "203.0.113.7", &["10.0.0.0/8"]);
        assert_eq!(ip_of(request).await, ip("192.0.2.1"));
        // No peer at all: nobody to believe.
        let request = HttpRequest::builder()
            .header("x-forwarded-for", "203.0.113.7")
            .body(())
            .unwrap();
        assert_eq!(ip_of(request).await, None);
    }

    #[test]
    fn the_cost_follows_the_route_and_only_model_routes_take_a_slot() {
        let demand = |method: Method, route: &str| {
            let Demand { cost, model } = Demand::of_route(&method, route);
            (cost, model)
        };
        assert_eq!(demand(Method::POST, "/v1/personas"), (4, true));
        assert_eq!(demand(Method::POST, "/v1/conversations"), (4, true));
        assert_eq!(demand(Method::POST, "/v1/chat"), (4, true));
        let send = demand(Method::POST, "/v1/conversations/{id}/messages");
        assert_eq!(send, (2, true));
        assert_eq!(demand(Method::POST, "/v1/chat/completions"), (2, true));
        for (method, route) in [
            (Method::GET, "/v1/conversations"),
            (Method::GET, "/v1/conversations/{id}"),
            (Method::DELETE, "/v1/conversations/{id}"),
            (Method::POST, "/v1/conversations/import"),
            (Method::GET, "/v1/personas/{conversation_id}/card"),
        ] {
            assert_eq!(demand(method, route), (1, false), "{route}");
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let key = |s: &str| ClientIp(Some(s.parse().unwrap())).principal().sub;
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_eq!(key("2001:db8:1:2::1"), "ip:2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("203.0.113.7"), "ip:203.0.113.7");
        assert_eq!(ClientIp(None).principal().sub, "ip:unknown");
    }

    #[test]
    fn headers_carry_the_decision_and_hide_unlimited() {
        let allowed = RateDecision::Allowed {
            limit: 25,
            remaining: 3,
        };
        let response = with_headers(Response::default(), allowed);
        assert_eq!(response.headers()["ratelimit-remaining"], "3");
        assert!(response.headers().get("ratelimit-reset").is_none());
        let denied = RateDecision::Denied {
            limit: 25,
            retry_after: std::time::Duration::from_secs(4),
        };
        let response = with_headers(Response::default(), denied);
        assert_eq!(response.headers()["ratelimit-reset"], "4");
        let unlimited = link::Unlimited.check(&Principal::new("x"));
        assert!(
            with_headers(Response::default(), unlimited)
                .headers()
                .is_empty()
        );
        let exhausted = RateDecision::Exhausted {
            retry_after: std::time::Duration::from_secs(600),
        };
        let response = with_headers(Response::default(), exhausted);
        assert!(response.headers().is_empty(), "no rate was counted");
    }
}
