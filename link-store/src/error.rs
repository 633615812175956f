//! Turning SQLite failures into Link's [`Error`], so no rusqlite type leaks into the API.

use link_core::Error;
use rusqlite::ErrorCode;

/// A mapper from a rusqlite error to [`Error::Storage`] that says what was being done.
pub(crate) fn storage(context: &'static str) -> impl Fn(rusqlite::Error) -> Error {
    move |err| Error::storage(format!("{context}: {}", describe(&err)))
}

/// A readable description; the codes a user can act on get a sentence of their own.
fn describe(err: &rusqlite::Error) -> String {
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "the file is not a SQLite database".to_owned(),
        Some(ErrorCode::DatabaseCorrupt) => "the database file is corrupt".to_owned(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            format!("the database is locked by another connection ({err})")
        }
        Some(ErrorCode::ReadOnly) => format!("the database is read-only ({err})"),
        Some(ErrorCode::CannotOpen) => format!("cannot open the database file ({err})"),
        _ => err.to_string(),
    }
}

/// Whether `err` is a UNIQUE / PRIMARY KEY violation (a duplicate id).
pub(crate) fn is_constraint(err: &rusqlite::Error) -> bool {
    err.sqlite_error_code() == Some(ErrorCode::ConstraintViolation)
}

/// The error for a blocking task that panicked or was cancelled.
pub(crate) fn task_failed(err: tokio::task::JoinError) -> Error {
    Error::storage(format!("storage task failed: {err}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn not_a_database_gets_a_plain_sentence() {
        let err = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
            None,
        );
        let mapped = storage("opening db")(err);
        assert_eq!(
            mapped,
            Error::storage("opening db: the file is not a SQLite database")
        );
    }

    #[test]
    fn constraint_violations_are_recognised() {
        let err = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
            None,
        );
        assert!(is_constraint(&err));
        assert!(!is_constraint(&rusqlite::Error::InvalidQuery));
    }
}
