-- The snapshot of a large 323 (thousands of lines, each on its own toewijzing) reads, for all its
-- toewijzingen and clients at once, the earlier lines that matter and the totals per toewijzing.
-- With a million and more stored lines these reads must not visit a table row per stored line.

-- Totals per toewijzing (TR322/TR369) from the index alone: the columns they filter on and sum
-- follow the key (the key itself is unchanged, so lookups by toewijzing and period stay as they
-- were).
DROP INDEX prestaties_toewijzing;
CREATE INDEX prestaties_toewijzing ON prestaties (gemeente, toewijzing_nummer, periode_eind,
    aanbieder, approved, eenheid, debet_credit, geleverd_volume, bedrag);

-- A client's lines in the declaration's period: the period's end in the index, so lines of
-- earlier months are skipped in the index (lookups by BSN alone use it as before).
DROP INDEX prestaties_bsn;
CREATE INDEX prestaties_bsn ON prestaties (bsn, periode_eind);

-- The starts and stops on a declaration's lines, found by toewijzing.
CREATE INDEX starts_toewijzing ON starts (toewijzing_nummer, gemeente);
CREATE INDEX stops_toewijzing ON stops (toewijzing_nummer, gemeente);
