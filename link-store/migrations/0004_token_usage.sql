-- Model tokens per owner, month ('YYYY-MM', UTC) and conversation, added to in the
-- transaction of the splice that stored the turn they paid for. No foreign key to
-- conversations: a tally outlives its conversation (the tokens were used all the same).
-- The primary key serves token_usage(owner, month) and the upsert.
CREATE TABLE token_usage (
    owner           TEXT    NOT NULL,
    month           TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    input_tokens    INTEGER NOT NULL CHECK (input_tokens >= 0),
    output_tokens   INTEGER NOT NULL CHECK (output_tokens >= 0),
    calls           INTEGER NOT NULL CHECK (calls >= 0),
    PRIMARY KEY (owner, month, conversation_id)
) STRICT, WITHOUT ROWID;
