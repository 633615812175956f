//! Link's benchmark kit: the pieces the load harness (`benches/run.sh`) and the criterion
//! micro-benchmarks share.
//!
//! - [`keys`]: RSA and P-256 keys made in-process, their JWKS entries, and Cognito-shaped
//!   tokens signed with them (so `link-server` runs in Cognito mode against a local JWKS).
//! - [`mock`]: a mock upstream speaking OpenAI Chat Completions (whole and SSE) and Bedrock
//!   Converse / ConverseStream, with knobs for time to first token, chunk gap, chunk count and
//!   reply size; it also serves the JWKS and mints tokens.
//! - [`stats`]: percentiles over latency samples.
//!
//! Nothing here is meant for production; everything listens on loopback.

pub mod keys;
pub mod mock;
pub mod stats;

/// Why a benchmark tool failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Key generation or signing failed in aws-lc-rs.
    #[error("crypto: {0}")]
    Crypto(String),
    /// Input or output of a socket or file failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A JSON value could not be written or read.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// An HTTP request failed.
    #[error("http: {0}")]
    Http(String),
}
