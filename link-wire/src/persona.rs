//! `POST /v1/personas`: extracting a persona.

use serde::{Deserialize, Serialize};

/// `POST /v1/personas`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonaRequest {
    /// Who to extract, e.g. "Ada Lovelace" or "a grumpy pirate who loves cats".
    pub request: String,
}
