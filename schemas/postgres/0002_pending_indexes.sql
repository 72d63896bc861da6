-- The sealer and the outbox relay look for the few rows not yet sealed / published; partial
-- indexes keep those lookups independent of the size of the tables.
CREATE INDEX messages_unsealed ON messages (id) WHERE chain_seq IS NULL;
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
