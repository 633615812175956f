//! [`ApiKeyStore`] for [`SqliteStore`]: the `api_keys` table, keyed by each key's hash.

use async_trait::async_trait;
use link_core::{ApiKey, ApiKeyStore, Error, Result};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::codec::{decode_time, encode_time};
use crate::error::{is_constraint, storage};
use crate::store::SqliteStore;

const COLUMNS: &str = "id, owner, name, hint, created_at";

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn insert(&self, key: &ApiKey, hash: &str) -> Result<()> {
        let (key, hash) = (key.clone(), hash.to_owned());
        self.pool().write(move |tx| insert(tx, &key, &hash)).await
    }

    async fn find(&self, hash: &str) -> Result<Option<ApiKey>> {
        self.pool()
            .read_inline(|conn| {
                let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE hash = ?1");
                conn.query_row(&sql, params![hash], key_of)
                    .optional()
                    .map_err(storage("looking up an API key"))?
                    .transpose()
            })
            .await
    }

    async fn list(&self, owner: &str) -> Result<Vec<ApiKey>> {
        self.pool()
            .read_inline(|conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM api_keys WHERE owner = ?1 ORDER BY created_at, id"
                );
                let mut statement = conn.prepare(&sql).map_err(storage("listing API keys"))?;
                let rows = statement
                    .query_map(params![owner], key_of)
                    .map_err(storage("listing API keys"))?;
                rows.map(|row| row.map_err(storage("reading an API key"))?)
                    .collect()
            })
            .await
    }

    async fn revoke(&self, owner: &str, id: &str) -> Result<bool> {
        let (owner, id) = (owner.to_owned(), id.to_owned());
        self.pool()
            .write(move |tx| {
                let deleted = tx
                    .execute(
                        "DELETE FROM api_keys WHERE owner = ?1 AND id = ?2",
                        params![owner, id],
                    )
                    .map_err(storage("revoking an API key"))?;
                Ok(deleted > 0)
            })
            .await
    }
}

/// Stores `key` under `hash`, within `tx`.
fn insert(tx: &Transaction<'_>, key: &ApiKey, hash: &str) -> Result<()> {
    let created_at = encode_time(key.created_at)?;
    let inserted = tx.execute(
        "INSERT INTO api_keys (hash, id, owner, name, hint, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![hash, key.id, key.owner, key.name, key.hint, created_at],
    );
    match inserted {
        Ok(_) => Ok(()),
        Err(err) if is_constraint(&err) => Err(Error::Conflict {
            message: "that API key exists already".to_owned(),
        }),
        Err(err) => Err(storage("storing an API key")(err)),
    }
}

/// A row as an [`ApiKey`]; the outer error is SQLite's, the inner one a bad timestamp.
fn key_of(row: &Row<'_>) -> rusqlite::Result<Result<ApiKey>> {
    let (id, owner, name, hint) = (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    let created_at = decode_time(row.get(4)?);
    Ok(created_at.map(|created_at| ApiKey {
        id,
        owner,
        name,
        hint,
        created_at,
    }))
}
