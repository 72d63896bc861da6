-- Publication state leaves the outbox rows, which hold the answer XML. Answers waiting to be
-- published are listed in outbox_queue (written in the decision's transaction); each confirmed
-- publication is appended to outbox_published (a re-sent answer gets a second row). Before, every
-- publish rewrote the answer row and its indexes.
CREATE TABLE outbox_queue (
    identificatie TEXT PRIMARY KEY,
    attempts BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE outbox_published (
    identificatie TEXT NOT NULL,
    published_at TEXT NOT NULL,
    channel TEXT NOT NULL,
    attempts BIGINT NOT NULL
);
CREATE INDEX outbox_published_identificatie ON outbox_published (identificatie);

INSERT INTO outbox_queue (identificatie, attempts)
    SELECT identificatie, attempts FROM outbox WHERE published_at IS NULL;
INSERT INTO outbox_published (identificatie, published_at, channel, attempts)
    SELECT identificatie, published_at, COALESCE(channel, ''), attempts FROM outbox WHERE published_at IS NOT NULL;

DROP INDEX outbox_unpublished;
DROP INDEX outbox_pending;
ALTER TABLE outbox DROP COLUMN published_at;
ALTER TABLE outbox DROP COLUMN channel;
ALTER TABLE outbox DROP COLUMN attempts;
