//! Test support shared by Link's integration tests and benches (never published).
//!
//! - [`openai`]: the one mock of OpenAI's Chat Completions API, as strict as the real one.
//! - [`bedrock`]: the one mock of Amazon Bedrock Runtime.
//! - [`moto`]: a local Amazon Cognito (moto_server).
//! - [`server`]: a `link-server` child process, its address and logs.
// Test code: a failure to set up the mock should stop the test at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod bedrock;
pub mod moto;
pub mod openai;
pub mod server;
