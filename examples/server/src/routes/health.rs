//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::state::AppState;
use link_wire::HealthBody;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Alive", body = HealthBody)))]
pub async fn healthz() -> Json<HealthBody> {
    Json(HealthBody {
        status: "ok".into(),
    })
}

/// Readiness: the store answers (the model is loaded before the server starts listening).
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready", body = HealthBody),
        (status = 503, description = "Not ready", body = HealthBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<HealthBody>) {
    match state.link.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(HealthBody {
                status: "ready".into(),
            }),
        ),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            let body = HealthBody {
                status: "not_ready".into(),
            };
            (StatusCode::SERVICE_UNAVAILABLE, Json(body))
        }
    }
}
