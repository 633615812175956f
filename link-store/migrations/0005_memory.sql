-- A conversation's memory: the rolling summary of the turns that left the prompt's window,
-- the newest message it covers, the owner's pinned facts and the memory's revision, as JSON
-- (NULL for a conversation that never had any). Read and written with the conversation row.
ALTER TABLE conversations ADD COLUMN memory TEXT;
