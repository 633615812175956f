//! `POST /v1/personas`: extracting a persona.

use serde::{Deserialize, Serialize};

/// `POST /v1/personas`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonaRequest {
    /// Who to extract, e.g. "Ada Lovelace" or "a grumpy pirate who loves cats": at most 500
    /// characters once trimmed, not all of them spaces.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 500, pattern = r"\S")
    )]
    pub request: String,
}
