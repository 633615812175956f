//! `/v1/me/keys`: the caller's long-lived API keys, for chat clients that send a fixed bearer
//! token (the OpenAI-compatible routes).

use link_core::{ApiKey, IssuedApiKey};
use serde::{Deserialize, Serialize};

/// `POST /v1/me/keys`: a new key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// What the key is for ("Open WebUI at home"); at most 100 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub name: String,
}

/// One API key, as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyBody {
    /// Its id, to revoke it by.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its first characters, to tell keys apart.
    pub hint: String,
    /// When it was made (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: time::OffsetDateTime,
}

impl From<ApiKey> for ApiKeyBody {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name,
            hint: key.hint,
            created_at: key.created_at,
        }
    }
}

/// A key just made, with the key itself: shown this once, never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    /// The key's record.
    #[serde(flatten)]
    pub key: ApiKeyBody,
    /// The key: send it as `Authorization: Bearer <key>`. It cannot be shown again.
    pub key_secret: String,
}

impl From<IssuedApiKey> for CreatedApiKey {
    fn from(issued: IssuedApiKey) -> Self {
        Self {
            key: ApiKeyBody::from(issued.key),
            key_secret: issued.secret,
        }
    }
}

/// `GET /v1/me/keys`: the caller's keys, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyList {
    /// The keys.
    pub keys: Vec<ApiKeyBody>,
}
