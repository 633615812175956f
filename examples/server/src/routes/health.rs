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
        warning: None,
    })
}

/// Readiness: the store answers (the model is loaded before the server starts listening). The
/// body warns when dev auth is on, so that a probe or a person sees it.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready", body = HealthBody),
        (status = 503, description = "Not ready", body = HealthBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<HealthBody>) {
    let (code, status) = match state.link.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "not_ready")
        }
    };
    let warning = state.dev.is_some().then(|| DEV_AUTH_WARNING.to_owned());
    let body = HealthBody {
        status: status.into(),
        warning,
    };
    (code, Json(body))
}

/// What `/readyz` says in dev auth mode.
pub const DEV_AUTH_WARNING: &str =
    "dev auth is on: anyone who can reach this server can mint a token for any user";
