//! The Bedrock mock of these tests is link-testkit's (one mock for every test that talks to
//! Bedrock); this module keeps the names the tests use.
#![allow(unused_imports)]

pub use link_testkit::bedrock::*;
