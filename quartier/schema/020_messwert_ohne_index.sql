-- messwert without its PRIMARY KEY (lieferung_id, indikator_id, sozialraum_id, jahr).
-- The key's ART index was only a constraint (no query looks values up through it: DuckDB filters by zone maps), but
-- it cost half of every import's write: each delivered value was inserted into the index inside the transaction and
-- again into the global index at COMMIT (103,500 values: 0.12 s with the index, 0.06 s without; bench/RESULTS_import.md),
-- and the index grows in memory with every delivery. Uniqueness per Lieferung is still guaranteed: the importer
-- refuses duplicate keys in a file ("doppelt"), and ingest.store.commit checks the delivered rows once more inside the
-- write transaction and writes nothing if a key repeats (a Lieferung's id is new, so keys unique among its own rows
-- are unique in the table).
-- DuckDB cannot drop a primary key with ALTER TABLE, so the table is rebuilt; the views that read it
-- (messwert_aktuell, messwert_heute, ...) refer to it by name and keep working. The rows keep their order (by
-- Lieferung, as they were written); sorting them cost 2.6 times the memory (4.8 million values: 260 MB → 690 MB).
CREATE TABLE messwert_neu (
    lieferung_id INTEGER NOT NULL,
    indikator_id VARCHAR NOT NULL,
    sozialraum_id VARCHAR NOT NULL,
    jahr INTEGER NOT NULL,
    wert DOUBLE,
    zaehler DOUBLE,
    nenner DOUBLE,
    gesperrt BOOLEAN NOT NULL DEFAULT FALSE   -- suppressed at source
);
INSERT INTO messwert_neu
SELECT lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt
FROM messwert;
DROP TABLE messwert;
ALTER TABLE messwert_neu RENAME TO messwert;
