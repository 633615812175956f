//! The OpenAI-compatible API: a chat client that speaks only OpenAI's Chat Completions (an
//! OpenAI SDK, Open WebUI, LibreChat, SillyTavern) talks to the caller's characters.
//!
//! - `GET /v1/models`: the caller's conversations as models `link/<conversation id>`, the
//!   character's name in `owned_by` and `name`; `GET /v1/models/{model}` one of them.
//! - `POST /v1/chat/completions` with `model: "link/<conversation id>"`, in one of two
//!   [`Mode`]s: **stored** (Link's history and memory are the context, the client's last user
//!   message is the new one, and the turn is stored) or **stateless** (the client's messages
//!   are the history and nothing is stored). The mode is the model's suffix
//!   (`link/<id>:stateless`), else the `X-Link-Mode` header, else the server's default
//!   (`LINK_OPENAI_MODE`, stored unless set).
//!
//! The persona's system prompt always comes from Link: a client's `system` (or `developer`)
//! message becomes the user's instructions, framed as data after Link's rules. Every call goes
//! through the engine like any other (bearer token or API key, rate limit, model-call cap,
//! moderation, guardrails, audit); errors leave in OpenAI's shape
//! (`{"error": {"message", "type", "param", "code"}}`, see [`error`]) so the SDKs raise
//! their usual exceptions.

pub mod completions;
pub mod error;
mod model_id;
pub mod models;
mod request;
mod stream;
pub mod wire;

pub use model_id::{MODE_HEADER, Mode, ModelId};

use axum::routing::{get, post};
use axum::{Extension, Router, middleware};

use crate::admission;
use crate::state::AppState;

/// The OpenAI-compatible routes, behind the same admission as every protected route and
/// with their errors in OpenAI's shape; `default` is the mode of a request that names none.
pub fn router(state: &AppState, default: Mode) -> Router<AppState> {
    Router::new()
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*model}", get(models::retrieve))
        .route("/v1/chat/completions", post(completions::create))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            admission::users,
        ))
        .layer(Extension(completions::DefaultMode(default)))
        .layer(middleware::from_fn(error::openai_errors))
}
