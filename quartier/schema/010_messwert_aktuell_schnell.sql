-- Faster definition of the current values: the same rows as the view in 001_core.sql.
-- That view numbers every value per indicator, area and year (a window over the whole table), which
-- sorts all values on every query that does not filter by indicator: at 10,000 areas x 60 indicators x
-- 20 years (12 million values) 25 s and 1.3 GB per query. Most (indicator, year) pairs come from
-- exactly one active Lieferung: those values are current as they are. Only pairs delivered by several
-- active Lieferungen go through the window (newest Lieferung wins). See bench/RESULTS.md.
CREATE OR REPLACE VIEW messwert_aktuell AS
WITH aktiv AS (
    SELECT id FROM lieferung WHERE status = 'aktiv'
),
paare AS (
    SELECT indikator_id, jahr, count(DISTINCT lieferung_id) AS n_lieferungen
    FROM messwert
    WHERE lieferung_id IN (SELECT id FROM aktiv)
    GROUP BY indikator_id, jahr
)
SELECT m.indikator_id, m.sozialraum_id, m.jahr, m.wert, m.zaehler, m.nenner, m.gesperrt, m.lieferung_id
FROM messwert m
JOIN paare p ON p.indikator_id = m.indikator_id AND p.jahr = m.jahr AND p.n_lieferungen = 1
WHERE m.lieferung_id IN (SELECT id FROM aktiv)
UNION ALL
SELECT indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt, lieferung_id
FROM (
    SELECT m.*, row_number() OVER (
        PARTITION BY m.indikator_id, m.sozialraum_id, m.jahr ORDER BY m.lieferung_id DESC
    ) AS rn
    FROM messwert m
    JOIN paare p ON p.indikator_id = m.indikator_id AND p.jahr = m.jahr AND p.n_lieferungen > 1
    WHERE m.lieferung_id IN (SELECT id FROM aktiv)
) WHERE rn = 1;
