//! [`InstrumentedAuthenticator`]: an [`Authenticator`] whose checks are traced and counted.

use std::sync::Arc;

use async_trait::async_trait;
use link_core::{Authenticator, Principal, Result};
use tracing::Instrument;

use crate::Metrics;
use crate::labels::AuthLabels;
use crate::spans;

/// Wraps an [`Authenticator`]: each check gets an `authenticate` span and is counted in
/// `link_auth_checks_total` by outcome (`ok`, or the error code). Neither holds the token or
/// the principal.
#[derive(Debug)]
pub struct InstrumentedAuthenticator<A> {
    inner: A,
    metrics: Arc<Metrics>,
}

impl<A: Authenticator> InstrumentedAuthenticator<A> {
    /// Wraps `inner`.
    pub fn new(inner: A, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl<A: Authenticator> Authenticator for InstrumentedAuthenticator<A> {
    async fn authenticate(&self, token: &str) -> Result<Principal> {
        let span = spans::auth_span();
        let result = self
            .inner
            .authenticate(token)
            .instrument(span.clone())
            .await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(error) => {
                spans::record_error(&span, error);
                error.code()
            }
        };
        self.metrics
            .auth
            .get_or_create(&AuthLabels { outcome })
            .inc();
        result
    }
}
