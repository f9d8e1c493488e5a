-- Gebietsstände (Issue 19), stored re-allocation: the values of earlier Gebietsstände re-allocated to today's
-- areas are kept in `messwert_umgerechnet` instead of being computed on every read by the view of 011 (28 s for
-- 12 million values). quartier/values/realloc.py fills it with the same rules as that view (sums preserved, rates
-- recomputed from re-allocated numerators/denominators, rates without counts only 1:1): on import, withdraw (only
-- the (indicator, year) pairs of that Lieferung), on a new Gebietsstand or key table (all), and on read whenever
-- `umrechnung_stand` no longer matches the deliveries, versions and keys (anything written another way).
CREATE TABLE messwert_umgerechnet (
    indikator_id VARCHAR NOT NULL,
    sozialraum_id VARCHAR NOT NULL,
    jahr INTEGER NOT NULL,
    wert DOUBLE,
    zaehler DOUBLE,
    nenner DOUBLE,
    gesperrt BOOLEAN NOT NULL,
    lieferung_id INTEGER NOT NULL,
    umgerechnet VARCHAR,
    umrechnung_grund VARCHAR,
    gebietsstand_alt INTEGER NOT NULL
);

-- Fingerprint of what the stored rows were computed from (one row).
CREATE TABLE umrechnung_stand (
    id INTEGER PRIMARY KEY,
    stand VARCHAR NOT NULL
);

-- Values on today's areas: the newest value delivered in the current Gebietsstand as it is (a value delivered
-- later in an earlier Gebietsstand for an area of the same id does not hide it), plus the stored re-allocated
-- values for (indicator, year) pairs without a delivery in the current Gebietsstand.
CREATE OR REPLACE VIEW messwert_heute AS
WITH cur AS (
    SELECT coalesce(max(id), 0) AS id FROM gebietsstand
),
nl AS (
    SELECT l.id AS lieferung_id
    FROM lieferung l CROSS JOIN cur LEFT JOIN lieferung_gebietsstand x ON x.lieferung_id = l.id
    WHERE l.status = 'aktiv' AND coalesce(x.gebietsstand_id, cur.id) = cur.id
),
np AS (
    -- as in 010: pairs from one Lieferung need no window (most of them)
    SELECT indikator_id, jahr, count(DISTINCT lieferung_id) AS n_lieferungen
    FROM messwert WHERE lieferung_id IN (SELECT lieferung_id FROM nl) GROUP BY indikator_id, jahr
)
SELECT m.indikator_id, m.sozialraum_id, m.jahr, m.wert, m.zaehler, m.nenner, m.gesperrt, m.lieferung_id,
       NULL::VARCHAR AS umgerechnet, NULL::VARCHAR AS umrechnung_grund, NULL::INTEGER AS gebietsstand_alt
FROM messwert m JOIN np p ON p.indikator_id = m.indikator_id AND p.jahr = m.jahr AND p.n_lieferungen = 1
WHERE m.lieferung_id IN (SELECT lieferung_id FROM nl)
UNION ALL
SELECT indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt, lieferung_id,
       NULL::VARCHAR AS umgerechnet, NULL::VARCHAR AS umrechnung_grund, NULL::INTEGER AS gebietsstand_alt
FROM (
    SELECT m.*, row_number() OVER (PARTITION BY m.indikator_id, m.sozialraum_id, m.jahr ORDER BY m.lieferung_id DESC) AS rn
    FROM messwert m JOIN np p ON p.indikator_id = m.indikator_id AND p.jahr = m.jahr AND p.n_lieferungen > 1
    WHERE m.lieferung_id IN (SELECT lieferung_id FROM nl)
) WHERE rn = 1
UNION ALL
SELECT indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt, lieferung_id,
       umgerechnet, umrechnung_grund, gebietsstand_alt
FROM messwert_umgerechnet;
