//! # link-server
//!
//! The HTTP face of Link: an axum application over the engine, with dev or Cognito
//! authentication, per-user rate limiting, audit, SQLite persistence and any of the local,
//! OpenAI or Bedrock providers. The binary `link-server` wires it from [`Config`]; the
//! pieces are public so tests and other hosts (AWS Lambda) can build the same router.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod config;
pub mod dto;
pub mod error;
pub mod json;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod limits;
pub mod openapi;
pub mod providers;
pub mod request_id;
pub mod routes;
pub mod serve;
pub mod sse;
pub mod state;
pub mod web;
mod wiring;

pub use app::{HttpOptions, router};
pub use config::Config;
pub use state::AppState;
pub use wiring::{build_state, run};
