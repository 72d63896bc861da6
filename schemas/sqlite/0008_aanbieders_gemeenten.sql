-- Aanbieders and gemeenten as finance needs them: the name and the account a payment run pays
-- to (aanbieder) or from (gemeente). Imported from CSV (`iwmo aanbieders|gemeenten import`); an
-- import replaces the row of the same code. iban in electronic form (checked, ISO 13616); bic
-- may be NULL (SEPA IBAN-only). updated_at: RFC 3339, UTC.
CREATE TABLE aanbieders (
    agb_code TEXT PRIMARY KEY,
    naam TEXT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT,
    updated_at TEXT NOT NULL
);

CREATE TABLE gemeenten (
    gemeente_code TEXT PRIMARY KEY,
    naam TEXT NOT NULL,
    iban TEXT NOT NULL,
    bic TEXT,
    updated_at TEXT NOT NULL
);
