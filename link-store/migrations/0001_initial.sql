-- Conversations, one row each. Timestamps are UTC Unix nanoseconds: exact for
-- OffsetDateTime and ordered as integers. The persona is JSON text.
CREATE TABLE conversations (
    id         TEXT    NOT NULL PRIMARY KEY,
    owner      TEXT    NOT NULL,
    persona    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Serves list(owner): newest first, ties broken by id (UUIDv7, so by creation time).
CREATE INDEX conversations_owner_updated
    ON conversations (owner, updated_at DESC, id DESC);

-- Messages in insertion order: `seq` is the order, never the timestamps, which may tie
-- or come from clocks that step back.
CREATE TABLE messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    NOT NULL UNIQUE,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    content         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;

-- Serves messages(id, last) and the cascade on delete.
CREATE INDEX messages_conversation_seq ON messages (conversation_id, seq);
