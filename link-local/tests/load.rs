//! Loading: a missing or broken model file is a clear configuration error, not a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};

use link_core::Error;
use link_local::{LocalConfig, LocalModel};

fn config_error(path: &std::path::Path) -> String {
    match LocalModel::load(LocalConfig::new(path)) {
        Err(Error::Config { message }) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn a_missing_file_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let message = config_error(&dir.path().join("absent.gguf"));
    assert!(message.contains("absent.gguf"), "{message}");
    assert!(message.contains("scripts/setup.sh"), "{message}");
}

#[test]
fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(config_error(dir.path()).contains("not a file"));
}

#[test]
fn a_file_that_is_not_gguf_is_refused() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"this is not a gguf model at all").unwrap();
    let message = config_error(file.path());
    assert!(message.contains("valid GGUF"), "{message}");
}

#[test]
fn a_truncated_model_is_refused() {
    let mut head = vec![0; 1 << 20];
    std::fs::File::open(common::model_path())
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&head).unwrap();
    let message = config_error(file.path());
    assert!(message.contains("valid GGUF"), "{message}");
}
