-- Storage caps: each conversation keeps how many messages it holds and the bytes of their
-- text (every version of every message, as link-core's StoreUsage::message_bytes counts
-- them), kept up to date by every write, so that a user's usage is a sum over their
-- conversations (served by conversations_owner_updated) instead of over their messages.
ALTER TABLE conversations ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;

UPDATE conversations SET
    message_count = (SELECT count(*) FROM messages m WHERE m.conversation_id = conversations.id),
    stored_bytes = (
        SELECT coalesce(sum(CASE WHEN m.alternatives IS NULL
            THEN length(CAST(m.content AS BLOB))
            ELSE (SELECT coalesce(sum(length(CAST(v.value AS BLOB))), 0)
                  FROM json_each(m.alternatives) v)
            END), 0)
        FROM messages m WHERE m.conversation_id = conversations.id
    );
