//! # link-server
//!
//! The HTTP face of Link: an axum application over the engine that the `link` crate builds
//! from configuration (providers, SQLite, rate limiting, audit, dev or Cognito
//! authentication). What is here is only HTTP's: routes, the admission layer (authentication
//! and rate-limit headers), errors as responses, SSE, the web page, the Cognito account
//! routes and the AWS Lambda adapter. The JSON shapes live in `link-wire`.

pub mod accounts;
pub mod admission;
pub mod app;
pub mod config;
pub mod error;
pub mod json;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod log_writer;
pub mod metrics;
pub mod openapi;
pub mod request_id;
pub mod routes;
mod run;
pub mod serve;
pub mod sse;
pub mod state;
pub mod telemetry;
pub mod timeouts;
pub mod web;

pub use app::{HttpOptions, router};
pub use config::Config;
pub use run::{build_state, run};
pub use state::AppState;
pub use telemetry::Telemetry;
