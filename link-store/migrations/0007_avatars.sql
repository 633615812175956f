-- Each conversation's avatar (a PNG image of at most 3 MiB), kept apart from the
-- conversation row so that reading a conversation never reads its picture. It goes with its
-- conversation through ON DELETE CASCADE.
CREATE TABLE avatars (
    conversation_id TEXT NOT NULL PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    png             BLOB NOT NULL
) STRICT;
