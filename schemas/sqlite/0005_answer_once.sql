-- Each answer is kept once, in outbox (written in the decision's transaction). New decisions no
-- longer copy it into decisions.answer_xml; readers take it from outbox through
-- decisions.answer_identificatie (older decisions keep their copy, which is the same text).
--
-- Messages are looked up by their hash only when they are invalid (an invalid message has no
-- inbox key of its own): the hash index covers those alone instead of every message.
DROP INDEX messages_sha;
CREATE INDEX messages_invalid_sha ON messages (payload_sha256) WHERE outcome = 'invalid';
