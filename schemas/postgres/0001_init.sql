-- iwmo store, PostgreSQL. Dates are ISO 'YYYY-MM-DD' text (they sort and compare as dates), money is
-- integer eurocents, timestamps are RFC 3339 text (UTC).

-- Every message received, raw and unchanged. Sealed shortly after commit into a hash chain:
-- chain_seq orders the chain, chain_hash = sha256(prev chain_hash || payload_sha256).
CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    raw BYTEA NOT NULL,
    kind TEXT,
    afzender TEXT,
    ontvanger TEXT,
    identificatie TEXT,
    dagtekening TEXT,
    outcome TEXT NOT NULL,
    error TEXT,
    chain_seq BIGINT,
    prev_hash TEXT,
    chain_hash TEXT
);
CREATE UNIQUE INDEX messages_chain ON messages (chain_seq);
CREATE INDEX messages_sha ON messages (payload_sha256);
CREATE INDEX messages_ident ON messages (identificatie);

-- Dedupe key (TR056): the first message with this (Afzender, berichtsoort, Identificatie).
CREATE TABLE inbox_keys (
    afzender TEXT NOT NULL,
    kind TEXT NOT NULL,
    identificatie TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    PRIMARY KEY (afzender, kind, identificatie)
);

-- One decision per processed message: outcome, codes, the snapshot the rules saw, the answer.
CREATE TABLE decisions (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL UNIQUE,
    decided_at TEXT NOT NULL,
    today TEXT NOT NULL,
    ruleset TEXT NOT NULL,
    outcome TEXT NOT NULL,
    codes TEXT NOT NULL,
    findings_json TEXT NOT NULL,
    snapshot_json TEXT NOT NULL,
    answer_kind TEXT,
    answer_identificatie TEXT,
    answer_xml TEXT
);

-- Every finding on every class, for auditors.
CREATE TABLE decision_lines (
    id BIGSERIAL PRIMARY KEY,
    decision_id BIGINT NOT NULL,
    class TEXT NOT NULL,
    position BIGINT NOT NULL,
    referentie_nummer TEXT,
    rule TEXT NOT NULL,
    code TEXT NOT NULL,
    level BIGINT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX decision_lines_decision ON decision_lines (decision_id);
CREATE INDEX decision_lines_ref ON decision_lines (referentie_nummer);

-- Toewijzingen: every version received, and the current one per (gemeente, nummer).
CREATE TABLE toewijzing_versies (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT,
    source TEXT NOT NULL,
    gemeente TEXT NOT NULL,
    toewijzing_nummer BIGINT NOT NULL,
    bsn TEXT NOT NULL,
    aanbieder TEXT NOT NULL,
    product_categorie TEXT,
    product_code TEXT,
    toewijzingsdatum TEXT NOT NULL,
    toewijzingstijd TEXT NOT NULL,
    ingangsdatum TEXT NOT NULL,
    einddatum TEXT,
    reden_wijziging TEXT,
    volume BIGINT,
    eenheid TEXT,
    frequentie TEXT,
    budget BIGINT
);
CREATE INDEX toewijzing_versies_nr ON toewijzing_versies (gemeente, toewijzing_nummer);

CREATE TABLE toewijzingen (
    gemeente TEXT NOT NULL,
    toewijzing_nummer BIGINT NOT NULL,
    version_id BIGINT NOT NULL,
    moment TEXT NOT NULL,
    bsn TEXT NOT NULL,
    aanbieder TEXT NOT NULL,
    product_categorie TEXT,
    product_code TEXT,
    toewijzingsdatum TEXT NOT NULL,
    toewijzingstijd TEXT NOT NULL,
    ingangsdatum TEXT NOT NULL,
    einddatum TEXT,
    reden_wijziging TEXT,
    volume BIGINT,
    eenheid TEXT,
    frequentie TEXT,
    budget BIGINT,
    PRIMARY KEY (gemeente, toewijzing_nummer)
);
CREATE INDEX toewijzingen_bsn ON toewijzingen (bsn);

CREATE TABLE starts (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL,
    gemeente TEXT NOT NULL,
    aanbieder TEXT NOT NULL,
    bsn TEXT NOT NULL,
    toewijzing_nummer BIGINT,
    product_categorie TEXT,
    product_code TEXT,
    begindatum TEXT NOT NULL,
    active BIGINT NOT NULL,
    deleted_by BIGINT
);
CREATE INDEX starts_client ON starts (gemeente, bsn);

CREATE TABLE stops (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL,
    gemeente TEXT NOT NULL,
    aanbieder TEXT NOT NULL,
    bsn TEXT NOT NULL,
    toewijzing_nummer BIGINT,
    product_categorie TEXT,
    product_code TEXT,
    begindatum TEXT NOT NULL,
    reden_beeindiging TEXT NOT NULL,
    einddatum TEXT NOT NULL,
    active BIGINT NOT NULL,
    deleted_by BIGINT
);
CREATE INDEX stops_client ON stops (gemeente, bsn);

CREATE TABLE declaraties (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL,
    gemeente TEXT NOT NULL,
    aanbieder TEXT NOT NULL,
    declaratie_nummer TEXT NOT NULL,
    periode_begin TEXT NOT NULL,
    periode_eind TEXT NOT NULL,
    totaal_ingediend BIGINT NOT NULL,
    totaal_toegekend BIGINT NOT NULL
);
CREATE UNIQUE INDEX declaraties_nummer ON declaraties (aanbieder, declaratie_nummer);
CREATE INDEX declaraties_aanbieder ON declaraties (aanbieder, gemeente, periode_begin);

CREATE TABLE prestaties (
    id BIGSERIAL PRIMARY KEY,
    declaratie_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    regel BIGINT NOT NULL,
    gemeente TEXT NOT NULL,
    aanbieder TEXT NOT NULL,
    referentie_nummer TEXT NOT NULL,
    vorig_referentie_nummer TEXT,
    bsn TEXT NOT NULL,
    toewijzing_nummer BIGINT NOT NULL,
    product_categorie TEXT NOT NULL,
    product_code TEXT NOT NULL,
    periode_begin TEXT NOT NULL,
    periode_eind TEXT NOT NULL,
    geleverd_volume BIGINT NOT NULL,
    eenheid TEXT NOT NULL,
    product_tarief BIGINT,
    bedrag BIGINT NOT NULL,
    debet_credit TEXT NOT NULL,
    approved BIGINT NOT NULL,
    gecrediteerd_door TEXT,
    codes TEXT NOT NULL
);
CREATE INDEX prestaties_ref ON prestaties (aanbieder, referentie_nummer);
CREATE INDEX prestaties_toewijzing ON prestaties (gemeente, toewijzing_nummer, periode_eind);
CREATE INDEX prestaties_bsn ON prestaties (bsn);
CREATE INDEX prestaties_message ON prestaties (message_id);

-- "Geen startbericht, geen betaling": payment holds on approved lines without a covering start.
CREATE TABLE holds (
    id BIGSERIAL PRIMARY KEY,
    prestatie_id BIGINT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    reden TEXT NOT NULL,
    created_at TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by_message BIGINT,
    start_id BIGINT
);
CREATE INDEX holds_status ON holds (status);

-- Local signals for auditors (double declarations, lines without start under policy `signal`).
CREATE TABLE signals (
    id BIGSERIAL PRIMARY KEY,
    prestatie_id BIGINT NOT NULL,
    soort TEXT NOT NULL,
    andere_referentie TEXT,
    tekst TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX signals_prestatie ON signals (prestatie_id);

CREATE TABLE contracts (
    id BIGSERIAL PRIMARY KEY,
    aanbieder TEXT NOT NULL,
    gemeente TEXT NOT NULL,
    product_categorie TEXT NOT NULL,
    product_code TEXT NOT NULL,
    eenheid TEXT NOT NULL,
    tarief BIGINT NOT NULL,
    ingangsdatum TEXT NOT NULL,
    einddatum TEXT,
    imported_at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE UNIQUE INDEX contracts_key ON contracts (aanbieder, gemeente, product_categorie, product_code, eenheid, ingangsdatum);

CREATE TABLE product_codes (
    product_categorie TEXT NOT NULL,
    product_code TEXT NOT NULL,
    PRIMARY KEY (product_categorie, product_code)
);

-- Answers to publish (transactional outbox): written with the decision, marked when the broker
-- confirmed them (or when `iwmo process` wrote them as files).
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL,
    answer_kind TEXT NOT NULL,
    identificatie TEXT NOT NULL UNIQUE,
    ontvanger TEXT NOT NULL,
    xml TEXT NOT NULL,
    created_at TEXT NOT NULL,
    published_at TEXT,
    channel TEXT,
    attempts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (published_at, id);

CREATE TABLE policies (
    gemeente TEXT PRIMARY KEY,
    start_policy TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
