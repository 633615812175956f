//! The fake OpenAI of these tests is link-testkit's strict mock (one mock for every test that
//! talks to OpenAI); this module keeps the names the tests use.
#![allow(unused_imports)]

pub use link_testkit::openai::*;
