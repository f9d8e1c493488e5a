-- Gebietsstände (Issue 19): every geometry load is a dated version; old versions' areas are kept.
-- `sozialraum` stays the current version (so all existing code keeps working); `sozialraum_version`
-- keeps the areas of every version. The current version is the newest one (highest id).
-- A Lieferung keeps the version it was delivered in (`lieferung_gebietsstand`); a Lieferung without an
-- entry belongs to the current version (when a new version is made, every Lieferung without an entry is
-- recorded with the version current until then). Old values are never rewritten: values delivered in an
-- earlier version are re-allocated to today's areas in the view `messwert_heute`.

CREATE TABLE gebietsstand (
    id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    gueltig_ab DATE NOT NULL,
    angelegt_am TIMESTAMP NOT NULL DEFAULT current_timestamp,
    angelegt_von VARCHAR NOT NULL
);

CREATE TABLE sozialraum_version (
    gebietsstand_id INTEGER NOT NULL,
    id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    bezirk_id VARCHAR,
    geometry VARCHAR NOT NULL,     -- GeoJSON geometry, WGS84 (as in sozialraum)
    PRIMARY KEY (gebietsstand_id, id)
);

-- Crosswalk between two versions: which share of old area alt_id goes to new area neu_id.
-- basis: 'flaeche' (area overlap), 'einwohner' (overlap weighted by the old version's population count),
-- 'einwohnerpunkte' (population points), 'amtlich' (official key table; wins over the derived one).
-- gewicht: the absolute weight of the piece (m² or persons); gives the share of the new area from each old one.
CREATE TABLE gebietsstand_schluessel (
    von INTEGER NOT NULL,
    nach INTEGER NOT NULL,
    alt_id VARCHAR NOT NULL,
    neu_id VARCHAR NOT NULL,
    anteil DOUBLE NOT NULL,
    basis VARCHAR NOT NULL,
    gewicht DOUBLE,
    PRIMARY KEY (von, nach, alt_id, neu_id)
);

CREATE TABLE lieferung_gebietsstand (
    lieferung_id INTEGER PRIMARY KEY,
    gebietsstand_id INTEGER NOT NULL
);

-- Existing databases: one version from the current areas.
INSERT INTO gebietsstand (id, name, gueltig_ab, angelegt_von)
SELECT 1, 'Gebietsstand 1', coalesce((SELECT min(importiert_am)::DATE FROM lieferung), current_date), 'migration'
WHERE EXISTS (SELECT 1 FROM sozialraum);
INSERT INTO sozialraum_version (gebietsstand_id, id, name, bezirk_id, geometry)
SELECT 1, id, name, bezirk_id, geometry FROM sozialraum;

-- Values on today's areas: the values delivered in the current version as they are, plus – for every
-- (indicator, year) that has no value in the current version – the values of an earlier version
-- re-allocated by the crosswalk to the current one: counts, numerators and denominators by their share
-- (sums preserved), rates recomputed from the re-allocated numerators/denominators (never averaged), rates
-- without numerator/denominator only where the new area maps 1:1 to one old area (both shares > 0.95),
-- otherwise empty with a reason. The unit rules mirror quartier/units.py (tests/unit/test_versions.py checks).
CREATE VIEW messwert_heute AS
WITH cur AS (
    SELECT coalesce(max(id), 0) AS id FROM gebietsstand
),
lg AS (
    SELECT l.id AS lieferung_id, coalesce(x.gebietsstand_id, cur.id) AS gs, coalesce(x.gebietsstand_id, cur.id) <> cur.id AS alt
    FROM lieferung l CROSS JOIN cur LEFT JOIN lieferung_gebietsstand x ON x.lieferung_id = l.id
    WHERE l.status = 'aktiv'
),
a AS (
    SELECT v.indikator_id, v.sozialraum_id, v.jahr, v.wert, v.zaehler, v.nenner, v.gesperrt, v.lieferung_id, lg.gs, lg.alt
    FROM messwert_aktuell v JOIN lg ON lg.lieferung_id = v.lieferung_id
),
nativ AS (
    SELECT indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt, lieferung_id FROM a WHERE NOT alt
),
paar_nativ AS (
    -- (indicator, year) pairs delivered in the current version: from the Lieferungen, not from every value
    SELECT DISTINCT m.indikator_id, m.jahr FROM messwert m JOIN lg ON lg.lieferung_id = m.lieferung_id AND NOT lg.alt
),
alt AS (
    SELECT a.* FROM a ANTI JOIN paar_nativ p ON p.indikator_id = a.indikator_id AND p.jahr = a.jahr WHERE a.alt
),
k AS (
    SELECT s.von, s.alt_id, s.neu_id, s.anteil, s.basis,
           coalesce(s.gewicht / nullif(sum(s.gewicht) OVER (PARTITION BY s.von, s.neu_id), 0), 0) AS anteil_neu,
           count(*) OVER (PARTITION BY s.von, s.neu_id) AS n_quellen
    FROM gebietsstand_schluessel s, cur WHERE s.nach = cur.id AND s.anteil > 0
),
j AS (
    SELECT a.*, k.neu_id, k.anteil, k.anteil_neu, k.n_quellen, k.basis, a.sozialraum_id = k.neu_id AS gleich,
           lower(trim(coalesce(i.einheit, ''))) AS u
    FROM alt a JOIN k ON k.von = a.gs AND k.alt_id = a.sozialraum_id
    LEFT JOIN indikator i ON i.id = a.indikator_id
),
g AS (
    SELECT indikator_id, neu_id AS sozialraum_id, jahr, gs, any_value(u) AS u, any_value(basis) AS basis,
           count(*) AS n, max(n_quellen) AS n_quellen, bool_or(gesperrt) AS gesperrt,
           count(zaehler) AS nz, count(nenner) AS nn, count(wert) AS nw,
           sum(zaehler * anteil) AS zaehler, sum(nenner * anteil) AS nenner, sum(wert * anteil) AS summe,
           max(CASE WHEN anteil > 0.95 AND anteil_neu > 0.95 THEN wert END) AS wert_1zu1,
           bool_and(gleich AND anteil > 0.999 AND anteil_neu > 0.999) AS identisch,
           max(lieferung_id) AS lieferung_id
    FROM j GROUP BY indikator_id, neu_id, jahr, gs
),
r AS (
    SELECT *,
           u IN ('anzahl', 'personen', 'fälle', 'faelle') AS ist_anzahl,
           CASE WHEN u = '%' THEN 100.0 WHEN u LIKE '%1.000%' OR u LIKE '%1000%' OR u = '‰' THEN 1000.0 ELSE 1.0 END AS faktor,
           n = n_quellen AND nz = n AND nn = n AND nenner > 0 AS mit_zn
    FROM g
)
SELECT indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt, lieferung_id,
       NULL::VARCHAR AS umgerechnet, NULL::VARCHAR AS umrechnung_grund, NULL::INTEGER AS gebietsstand_alt
FROM nativ
UNION ALL
SELECT indikator_id, sozialraum_id, jahr,
       CASE WHEN gesperrt OR n < n_quellen THEN NULL
            WHEN ist_anzahl THEN CASE WHEN nw = n THEN summe END
            WHEN mit_zn THEN zaehler / nenner * faktor
            ELSE wert_1zu1 END AS wert,
       CASE WHEN NOT gesperrt AND n = n_quellen AND nz = n THEN zaehler END AS zaehler,
       CASE WHEN NOT gesperrt AND n = n_quellen AND nn = n THEN nenner END AS nenner,
       gesperrt, lieferung_id,
       CASE WHEN identisch THEN NULL
            ELSE 'umgerechnet (' || CASE basis WHEN 'amtlich' THEN 'amtlicher Schlüssel'
                                               WHEN 'einwohner' THEN 'Überschneidung, nach Einwohnern gewichtet'
                                               WHEN 'einwohnerpunkte' THEN 'Einwohner-Punkte'
                                               ELSE 'Flächenanteile' END
                 || ', Gebietsstand ' || gs || ')' END AS umgerechnet,
       CASE WHEN gesperrt THEN 'ein beteiligtes altes Gebiet ist gesperrt'
            WHEN n < n_quellen THEN 'nicht für alle beteiligten alten Gebiete geliefert'
            WHEN NOT ist_anzahl AND NOT mit_zn AND wert_1zu1 IS NULL
                 THEN 'Rate ohne Zähler und Nenner: nur bei 1:1-Zuordnung (Anteil über 0,95) umrechenbar'
       END AS umrechnung_grund,
       gs AS gebietsstand_alt
FROM r;
