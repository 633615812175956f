//! Character Card V2 export and import.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use link::{CharacterCard, PersonaSource};

use super::conversation_id;
use crate::admission::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::state::AppState;
use link_wire::ConversationBody;

/// The conversation's persona as a Character Card V2 (`chara_card_v2`).
#[utoipa::path(get, path = "/v1/personas/{conversation_id}/card", tag = "personas",
    params(("conversation_id" = String, Path, format = "uuid", description = "Conversation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Character Card V2 JSON", body = Object),
        (status = 400, description = "A malformed id", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such conversation of yours", body = ErrorBody),
    ))]
pub async fn export(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = conversation_id(&id)?;
    let detail = state.link.get_conversation(&ctx, id).await?;
    let card = CharacterCard::from_persona(&detail.conversation.persona);
    Ok(Json(card).into_response())
}

/// Starts a conversation from a Character Card V2; unknown `extensions` keys are kept, and
/// the card's `alternate_greetings` become versions of the greeting.
#[utoipa::path(post, path = "/v1/conversations/import", tag = "conversations",
    request_body(content = Object, description = "Character Card V2 JSON"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ConversationBody),
        (status = 400, description = "Not a V2 card", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "The card's persona is invalid", body = ErrorBody),
    ))]
pub async fn import(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(card): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let card = CharacterCard::from_json(&card.to_string())?;
    let detail = state
        .link
        .create_conversation(&ctx, PersonaSource::Card(Box::new(card)))
        .await?;
    let body = ConversationBody::from(detail);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
