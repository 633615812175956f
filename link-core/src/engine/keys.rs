//! The caller's API keys: made, listed and revoked as audited actions. A key acts as its
//! owner, so only a caller who proved who they are some other way (a sign-in token, not an
//! API key) may make or revoke one: a leaked key cannot mint more.

use std::sync::Arc;

use super::Link;
use super::action::Action;
use crate::{
    ApiKey, ApiKeyStore, AuditAction, Error, IssuedApiKey, MAX_API_KEYS_PER_USER, RequestContext,
    Result, TokenUse, validate_api_key_name,
};

impl Link {
    /// This engine with its API keys kept in `keys` (an engine built without
    /// [`LinkBuilder::api_keys`](crate::LinkBuilder::api_keys) keeps them in memory).
    pub fn with_api_keys(mut self, keys: Arc<dyn ApiKeyStore>) -> Self {
        self.keys = keys;
        self
    }

    /// Where API keys are kept, for the authenticator that accepts them.
    pub fn api_keys(&self) -> &Arc<dyn ApiKeyStore> {
        &self.keys
    }

    /// Makes an API key named `name` for the caller; the key itself is in the result and
    /// nowhere else. At most [`MAX_API_KEYS_PER_USER`] per user; refused
    /// ([`Error::Forbidden`]) to a caller signed in with an API key.
    pub async fn create_api_key(&self, ctx: &RequestContext, name: &str) -> Result<IssuedApiKey> {
        let action = Action::new(AuditAction::CreateApiKey);
        self.act(ctx, action, async |_| {
            not_by_api_key(ctx)?;
            let name = validate_api_key_name(name)?;
            let owner = &ctx.principal.sub;
            if self.keys.list(owner).await?.len() >= MAX_API_KEYS_PER_USER {
                return Err(Error::invalid(format!(
                    "at most {MAX_API_KEYS_PER_USER} API keys per user: revoke one first"
                )));
            }
            let issued = IssuedApiKey::generate(owner, name);
            self.keys.insert(&issued.key, &issued.hash()).await?;
            Ok(issued)
        })
        .await
    }

    /// The caller's API keys, oldest first (never the keys themselves).
    pub async fn list_api_keys(&self, ctx: &RequestContext) -> Result<Vec<ApiKey>> {
        let action = Action::new(AuditAction::ListApiKeys);
        self.act(ctx, action, async |_| {
            self.keys.list(&ctx.principal.sub).await
        })
        .await
    }

    /// Revokes the caller's API key `id`: it stops working at once. Another user's key is
    /// not found; refused ([`Error::Forbidden`]) to a caller signed in with an API key.
    pub async fn revoke_api_key(&self, ctx: &RequestContext, id: &str) -> Result<()> {
        let action = Action::new(AuditAction::RevokeApiKey);
        self.act(ctx, action, async |_| {
            not_by_api_key(ctx)?;
            match self.keys.revoke(&ctx.principal.sub, id).await? {
                true => Ok(()),
                false => Err(Error::not_found("API key")),
            }
        })
        .await
    }
}

/// Refuses a caller who proved who they are with an API key.
fn not_by_api_key(ctx: &RequestContext) -> Result<()> {
    match ctx.principal.token_use {
        Some(TokenUse::ApiKey) => Err(Error::Forbidden {
            reason: "API keys are made and revoked with a sign-in token, not an API key".to_owned(),
        }),
        _ => Ok(()),
    }
}
