//! A conversation's lorebook over HTTP: `GET`, `PUT` and `DELETE
//! /v1/conversations/{id}/lorebook`. The body of a `PUT` is a lorebook in the shape of a
//! card's `character_book` (V2 and V3), as [`link_core::Lorebook`] reads it.

use link_core::Lorebook;
use serde::{Deserialize, Serialize};

/// The conversation's lorebook, or null when it has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LorebookReply {
    /// Null when the conversation has no lorebook.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<LorebookSchema>))]
    pub lorebook: Option<Lorebook>,
}

/// Stands for `link_core::Lorebook` in the OpenAPI document; its schema is generated from the
/// Rust type by schemars and added to the document by the server.
#[cfg(feature = "openapi")]
pub struct LorebookSchema;

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for LorebookSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        utoipa::openapi::RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Lorebook"))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for LorebookSchema {}
