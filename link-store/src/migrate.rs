//! Schema migrations, versioned with SQLite's `PRAGMA user_version`.
//!
//! Migration `i` (0-based) takes the schema from version `i` to `i + 1`. Each runs in its own
//! `BEGIN IMMEDIATE` transaction together with the version bump, so a crash leaves the file at
//! a whole version and two processes opening the same file cannot both apply a step.
//! Migrations are append-only: never edit one that has shipped, add the next.

use link_core::{Error, Result};
use rusqlite::{Connection, TransactionBehavior};

use crate::error::storage;

/// The ordered migrations; the schema version of a fully migrated file is their count.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_chat_controls.sql"),
    include_str!("../migrations/0003_usage.sql"),
    include_str!("../migrations/0004_token_usage.sql"),
    include_str!("../migrations/0005_memory.sql"),
    include_str!("../migrations/0006_api_keys.sql"),
    include_str!("../migrations/0007_avatars.sql"),
];

/// The schema version this build of link-store writes and understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings the database up to [`SCHEMA_VERSION`]; refuses a file from a newer link-store.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    for (step, sql) in MIGRATIONS.iter().enumerate() {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage("starting a migration"))?;
        // Read inside the transaction: another process may have migrated meanwhile.
        let current = check_version(&tx)?;
        if current > step {
            continue;
        }
        tx.execute_batch(sql)
            .map_err(storage("applying a schema migration"))?;
        tx.pragma_update(None, "user_version", step as i64 + 1)
            .map_err(storage("recording the schema version"))?;
        tx.commit().map_err(storage("committing a migration"))?;
        tracing::info!(version = step + 1, "link-store: applied schema migration");
    }
    // A file that needed no migration is still checked for being too new.
    check_version(conn).map(|_| ())
}

/// The file's schema version, or an error if this build cannot use it.
fn check_version(conn: &Connection) -> Result<usize> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(storage("reading the schema version"))?;
    let known = MIGRATIONS.len();
    match usize::try_from(version) {
        Ok(v) if v <= known => Ok(v),
        _ => Err(Error::storage(format!(
            "the database schema version is {version} but this link-store knows versions up \
             to {known}; upgrade link-store or use another database file"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn migrates_a_fresh_database_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn), i64::from(SCHEMA_VERSION));
        // Running again is a no-op, not a "table already exists" failure.
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn), i64::from(SCHEMA_VERSION));
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", i64::from(SCHEMA_VERSION) + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(
            matches!(&err, Error::Storage { message } if message.contains("upgrade link-store")),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_negative_schema_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", -1).unwrap();
        assert!(matches!(migrate(&mut conn), Err(Error::Storage { .. })));
    }
}
