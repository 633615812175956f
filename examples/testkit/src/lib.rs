//! Test support shared by link-server's and link-cli's integration tests (never published).
//!
//! - [`mock_openai`]: a mock of OpenAI's Chat Completions API on 127.0.0.1.
//! - [`moto`]: a local Amazon Cognito (moto_server).
//! - [`server`]: a `link-server` child process, its address and logs.
// Test code: a failure to set up the mock should stop the test at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod mock_openai;
pub mod moto;
pub mod server;
