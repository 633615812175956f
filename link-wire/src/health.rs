//! Liveness and readiness.

use serde::{Deserialize, Serialize};

/// Liveness and readiness answers.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthBody {
    /// `ok`, `ready` or `not_ready`.
    pub status: String,
    /// Why this deployment is not fit to face strangers, when it is not (dev auth is on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}
