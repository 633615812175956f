//! The words that make the mock's persona extraction answer badly (link-testkit's).
#![allow(unused_imports)]

pub use link_testkit::bedrock::persona::*;
