//! `GET /v1/models` and `GET /v1/models/{model}`: the caller's conversations as models.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use link::{Conversation, PageRequest};

use super::model_id::ModelId;
use super::wire::{ModelList, ModelObject, OpenAiError, OpenAiErrorBody};
use crate::admission::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The most models listed: the caller's most recently used conversations.
const MAX_MODELS: usize = 200;

/// The caller's conversations as models, most recently used first (at most 200): each
/// `link/<conversation id>` with the character's name in `owned_by` and `name`.
#[utoipa::path(get, path = "/v1/models", tag = "openai", operation_id = "list_models",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's characters as models", body = ModelList),
        (status = 401, description = "No valid token or API key", body = OpenAiErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = OpenAiErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Caller(ctx): Caller,
) -> Result<Response, ApiError> {
    let page = (state.link)
        .list_conversations(&ctx, &PageRequest::first(MAX_MODELS))
        .await?;
    let data = page.items.iter().map(model_of).collect();
    let list = ModelList {
        object: "list".to_owned(),
        data,
    };
    Ok(Json(list).into_response())
}

/// One of the caller's conversations as a model.
#[utoipa::path(get, path = "/v1/models/{model}", tag = "openai", operation_id = "retrieve_model",
    params(("model" = String, Path, description = "`link/<conversation id>`, URL-encoded")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The model", body = ModelObject),
        (status = 401, description = "No valid token or API key", body = OpenAiErrorBody),
        (status = 404, description = "No such model of yours", body = OpenAiErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = OpenAiErrorBody),
    ))]
pub async fn retrieve(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(model): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || OpenAiError::model_not_found(&model).with_status(StatusCode::NOT_FOUND);
    let Some(id) = ModelId::parse(&model) else {
        return Ok(not_found());
    };
    match state
        .link
        .get_conversation_last(&ctx, id.conversation, 1)
        .await
    {
        Ok(detail) => Ok(Json(model_of(&detail.conversation)).into_response()),
        Err(link::Error::NotFound { .. }) => Ok(not_found()),
        Err(error) => Err(error.into()),
    }
}

fn model_of(conversation: &Conversation) -> ModelObject {
    let name = conversation.persona.name.clone();
    ModelObject {
        id: ModelId::name(conversation.id),
        object: "model".to_owned(),
        created: conversation.created_at.unix_timestamp(),
        owned_by: name.clone(),
        name,
    }
}
