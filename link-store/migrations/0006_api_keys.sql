-- Long-lived API keys: only the SHA-256 of each key (hex) is kept, never the key. A key is
-- looked up by its hash on every request that carries one (the primary key), and listed per
-- owner oldest first (the index). Revoking a key deletes its row.
CREATE TABLE api_keys (
    hash       TEXT    NOT NULL PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    owner      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    hint       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX api_keys_by_owner ON api_keys (owner, created_at, id);
