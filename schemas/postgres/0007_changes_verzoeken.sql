-- Every decision keeps what it changed (holds placed and released, starts, Prestaties, …) as
-- computed by the pure core, so that a replay can say precisely what would differ today.
-- Older decisions have none (NULL): their replay compares outcome, codes and answer only.
ALTER TABLE decisions ADD COLUMN changes_json TEXT;

-- Accepted requests of aanbieders (WMO315 verzoek om toewijzing, WMO317 verzoek om wijziging)
-- waiting for the gemeente's decision (a WMO301 or a WMO319, within 5 werkdagen).
CREATE TABLE verzoeken (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL,
    soort TEXT NOT NULL,
    gemeente TEXT NOT NULL,
    aanbieder TEXT NOT NULL,
    bsn TEXT NOT NULL,
    referenties TEXT NOT NULL,
    toewijzingen TEXT NOT NULL,
    ontvangen TEXT NOT NULL,
    uiterlijk TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- The message that settled it (a WMO301 carrying its ReferentieAanbieder).
    afgehandeld_door BIGINT
);
CREATE INDEX verzoeken_open ON verzoeken (gemeente, status, uiterlijk);

-- Toewijzingen the aanbieder refused: a WMO302 with retour codes other than 0200 on the product.
CREATE TABLE toewijzing_weigeringen (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL,
    gemeente TEXT NOT NULL,
    toewijzing_nummer BIGINT NOT NULL,
    codes TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX toewijzing_weigeringen_nummer ON toewijzing_weigeringen (gemeente, toewijzing_nummer);
