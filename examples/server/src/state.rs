//! What every handler shares.

use std::sync::Arc;

use link::{Authenticator, Link, RateLimiter};

use crate::accounts::Accounts;

pub use link::DevTokens;

/// The server's shared state. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The engine.
    pub link: Link,
    /// Verifies bearer tokens.
    pub auth: Arc<dyn Authenticator>,
    /// In dev mode, the minter behind `POST /v1/auth/token`.
    pub dev: Option<DevTokens>,
    /// In Cognito mode, the account flows behind `/v1/auth/{signup,confirm,login,refresh,signout}`.
    pub accounts: Option<Arc<Accounts>>,
    /// Counts the routes that have no user yet (the account routes, the dev token route) per
    /// client address, and sign-ins per username; `None` leaves them unlimited (in-process
    /// hosts that limit elsewhere).
    pub per_ip: Option<Arc<dyn RateLimiter>>,
}
