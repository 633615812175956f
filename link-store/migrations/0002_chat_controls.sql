-- Chat controls: forks, user personas, message versions, edits and interrupted replies.
-- Every new column has a default, so rows written by schema 1 read back unchanged.

-- Where a fork came from (both NULL for a conversation that is not a fork), and the user
-- persona that overrides the owner's default in this conversation (JSON, NULL for none).
ALTER TABLE conversations ADD COLUMN origin_conversation TEXT;
ALTER TABLE conversations ADD COLUMN origin_message TEXT;
ALTER TABLE conversations ADD COLUMN user_persona TEXT;

-- Every version of a message as a JSON array of strings when it has more than one (NULL
-- otherwise); `content` is always the chosen one, at index `chosen`.
ALTER TABLE messages ADD COLUMN alternatives TEXT;
ALTER TABLE messages ADD COLUMN chosen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0 CHECK (interrupted IN (0, 1));
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
-- Bumped by every rewrite; a rewrite names the revision it read (optimistic concurrency).
ALTER TABLE messages ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- Each user's default user persona (JSON).
CREATE TABLE user_personas (
    owner   TEXT NOT NULL PRIMARY KEY,
    persona TEXT NOT NULL
) STRICT;
