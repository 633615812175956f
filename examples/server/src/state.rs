//! What every handler shares.

use std::sync::Arc;
use std::time::Duration;

use link_auth::DevAuthenticator;
use link_core::{Authenticator, Link};

use crate::accounts::Accounts;

/// The server's shared state. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The engine.
    pub link: Link,
    /// Verifies bearer tokens.
    pub auth: Arc<dyn Authenticator>,
    /// In dev mode, the minter behind `POST /v1/auth/token`.
    pub dev: Option<DevTokens>,
    /// In Cognito mode, the account flows behind `/v1/auth/{signup,confirm,login,refresh}`.
    pub accounts: Option<Arc<Accounts>>,
}

/// Dev-mode token minting.
#[derive(Clone)]
pub struct DevTokens {
    /// Mints and verifies the tokens.
    pub authenticator: Arc<DevAuthenticator>,
    /// How long minted tokens live.
    pub lifetime: Duration,
}

impl std::fmt::Debug for DevTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevTokens")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}
