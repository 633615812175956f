//! `GET /v1/me/usage`: the model tokens the caller's conversations used in a month, per
//! conversation, from the figures the model reported for each call.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use link::Month;
use link_wire::{ErrorBody, TokenUsageReply};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::admission::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Which month to report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// The month, `YYYY-MM` in UTC (for example `2026-03`); the current month without it.
    #[param(pattern = r"^\d{4}-\d{2}$", example = "2026-03")]
    month: Option<String>,
}

/// The model tokens the caller's conversations used in a month (UTC): the total and each
/// conversation's, the most tokens first, with the character's name (null for a conversation
/// deleted since; its tokens still count). A reply the guardrail blocked counts; a stream
/// dropped before the model reported its tokens does not.
#[utoipa::path(get, path = "/v1/me/usage", tag = "me", operation_id = "get_token_usage",
    params(UsageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The month's token usage", body = TokenUsageReply),
        (status = 400, description = "A `month` that is not `YYYY-MM`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 429, description = "Rate limited", body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| invalid(rejection.body_text()))?;
    let month = match query.month {
        None => Month::current(),
        Some(text) => text.parse::<Month>().map_err(|_| {
            invalid(format!(
                "`month` must be a month written YYYY-MM, for example 2026-03; got {text:?}"
            ))
        })?,
    };
    let usage = state.link.token_usage(&ctx, month).await?;
    Ok(Json(TokenUsageReply::from(usage)).into_response())
}

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}
