//! Liveness and readiness.

use serde::{Deserialize, Serialize};

/// Liveness and readiness answers.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthBody {
    /// `ok`, `ready` or `not_ready`.
    pub status: String,
}
