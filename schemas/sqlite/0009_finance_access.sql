-- People and their bearer tokens (only a sha256 of each token is kept), the action log of what
-- people do (chained into the hash chain beside the messages), and payment runs.

-- `gemeenten` is '*' (all gemeenten) or the codes separated by commas.
CREATE TABLE gebruikers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    naam TEXT NOT NULL,
    rol TEXT NOT NULL,
    gemeenten TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    aangemaakt_op TEXT NOT NULL,
    ingetrokken_op TEXT
);
-- One active user per name; a revoked name may be given out again.
CREATE UNIQUE INDEX gebruikers_naam_actief ON gebruikers (naam) WHERE ingetrokken_op IS NULL;

-- Every action of a person: who (name and role), what, on what, when; `details` is JSON without
-- BSN; `sha256` is the digest of the canonical record that the chain links.
CREATE TABLE acties (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    op TEXT NOT NULL,
    gebruiker TEXT NOT NULL,
    rol TEXT NOT NULL,
    actie TEXT NOT NULL,
    onderwerp TEXT NOT NULL,
    gemeente TEXT,
    details TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX acties_onderwerp ON acties (onderwerp);

CREATE TABLE unsealed_acties (
    actie_id BIGINT PRIMARY KEY
);

-- The chain links either a message or an action.
CREATE TABLE chain_new (
    seq BIGINT PRIMARY KEY,
    message_id BIGINT UNIQUE,
    actie_id BIGINT UNIQUE,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO chain_new (seq, message_id, actie_id, prev_hash, hash)
    SELECT seq, message_id, NULL, prev_hash, hash FROM chain;
DROP TABLE chain;
ALTER TABLE chain_new RENAME TO chain;

-- Payment runs: one gemeente, lines whose ProductPeriode ends on or before tot_en_met.
-- `samenvatting` (JSON) keeps what the run was made of: per aanbieder, the held lines left out
-- and the aanbieders carried over (net total zero or below, or no account known).
CREATE TABLE betaalrondes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    gemeente TEXT NOT NULL,
    aanbieder TEXT,
    tot_en_met TEXT NOT NULL,
    status TEXT NOT NULL,
    aantal_regels BIGINT NOT NULL,
    totaal_cents BIGINT NOT NULL,
    samenvatting TEXT NOT NULL,
    debiteur_naam TEXT NOT NULL,
    debiteur_iban TEXT NOT NULL,
    debiteur_bic TEXT,
    aangemaakt_door TEXT NOT NULL,
    aangemaakt_op TEXT NOT NULL,
    gefiatteerd_door TEXT,
    gefiatteerd_op TEXT,
    geexporteerd_door TEXT,
    geexporteerd_op TEXT,
    sepa_sha256 TEXT,
    betaald_door TEXT,
    betaald_op TEXT,
    ingetrokken_door TEXT,
    ingetrokken_op TEXT,
    reden TEXT
);
CREATE INDEX betaalrondes_gemeente ON betaalrondes (gemeente, status, id);

-- Who a run pays, frozen when the run is made: what the second person approves (names, IBANs,
-- amounts) is what the payment file pays, whatever later imports change.
CREATE TABLE betaalronde_aanbieders (
    betaalronde_id BIGINT NOT NULL,
    agb_code TEXT NOT NULL,
    naam TEXT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT,
    aantal_regels BIGINT NOT NULL,
    bedrag_cents BIGINT NOT NULL,
    PRIMARY KEY (betaalronde_id, agb_code)
);

-- The lines of a run, amounts signed (credits negative). `actief` is 1 while the run is live
-- (not withdrawn): the partial unique index lets a line be in at most one live run.
CREATE TABLE betaalronde_regels (
    betaalronde_id BIGINT NOT NULL,
    prestatie_id BIGINT NOT NULL,
    aanbieder TEXT NOT NULL,
    bedrag_cents BIGINT NOT NULL,
    actief BIGINT NOT NULL,
    PRIMARY KEY (betaalronde_id, prestatie_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX betaalronde_regels_live ON betaalronde_regels (prestatie_id) WHERE actief = 1;

-- Lines a run may take: approved, of one gemeente, by ProductPeriode end.
CREATE INDEX prestaties_betaalbaar ON prestaties (gemeente, approved, periode_eind);
