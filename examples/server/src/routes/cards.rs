//! Character cards over HTTP: export as V2 or V3 JSON or as a PNG image, import from JSON,
//! PNG or CharX.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use link::card::{CardSpec, png};
use link::{Avatar, CharacterCard, Persona};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::conversation_id;
use crate::admission::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use link_wire::ConversationBody;

/// The format of an exported card.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CardFormat {
    /// Character Card V2 JSON (`chara_card_v2`), what most tools read.
    #[default]
    V2,
    /// Character Card V3 JSON (`chara_card_v3`).
    V3,
    /// A PNG image carrying the V3 card (`ccv3` chunk) and the V2 card (`chara` chunk).
    Png,
}

/// A file's bytes (a PNG image, a zip archive), as OpenAPI describes binary bodies.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct BinaryFile(pub Vec<u8>);

/// How to export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `v2` (default), `v3` or `png`.
    format: Option<CardFormat>,
}

/// The conversation's persona as a character card: V2 or V3 JSON, or a PNG image with both
/// (the conversation's avatar as the picture, a plain square when it has none).
#[utoipa::path(get, path = "/v1/personas/{conversation_id}/card", tag = "personas",
    params(("conversation_id" = String, Path, format = "uuid", description = "Conversation id"),
           ExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The card: JSON (v2, v3) or a PNG image (png)",
         content((Object = "application/json"), (BinaryFile = "image/png"))),
        (status = 400, description = "A malformed id or format", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
    ))]
pub async fn export(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let detail = state.link.get_conversation(&ctx, id).await?;
    let persona = &detail.conversation.persona;
    let response = match query.format.unwrap_or_default() {
        CardFormat::V2 => {
            Json(CharacterCard::from_persona_as(persona, CardSpec::V2)).into_response()
        }
        CardFormat::V3 => {
            Json(CharacterCard::from_persona_as(persona, CardSpec::V3)).into_response()
        }
        CardFormat::Png => {
            let avatar = state.link.avatar(&ctx, id).await?;
            png_response(persona, avatar.as_ref())?
        }
    };
    Ok(response)
}

fn png_response(persona: &Persona, avatar: Option<&Avatar>) -> Result<Response, ApiError> {
    let image = png::write(persona, avatar.map(Avatar::as_bytes))?;
    let file: String = persona
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let disposition = format!("attachment; filename=\"{file}.png\"");
    Ok((
        [
            (header::CONTENT_TYPE, "image/png".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        image,
    )
        .into_response())
}

/// Starts a conversation from a character card: V2 or V3 JSON, a PNG image with a `ccv3` or
/// `chara` chunk, or a CharX archive (the format is read from the body, whatever its
/// content type). Every card field Link does not use is kept for export; the card's
/// `alternate_greetings` become versions of the greeting; its image becomes the
/// conversation's avatar (at most 3 MiB of PNG once its text chunks are stripped). This
/// route takes bodies up to `LINK_MAX_CARD_BYTES` (8 MiB by default); the others keep
/// `LINK_MAX_BODY_BYTES`.
#[utoipa::path(post, path = "/v1/conversations/import", tag = "conversations",
    request_body(description = "A card: V2/V3 JSON, a PNG image or a CharX (zip) archive",
        content((Object = "application/json"), (BinaryFile = "image/png"),
                (BinaryFile = "application/zip"))),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ConversationBody),
        (status = 400, description = "Not a V2 or V3 card, or a broken image or archive",
         body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Larger than LINK_MAX_CARD_BYTES", body = ErrorBody),
        (status = 422, description = "The card's persona is invalid", body = ErrorBody),
    ))]
pub async fn import(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let card = link::card::read_any(&body?)?;
    let detail = state.link.import_card(&ctx, card).await?;
    let body = ConversationBody::from(detail);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
