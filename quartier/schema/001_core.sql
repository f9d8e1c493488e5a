-- Kernschema: Gebiete, Achsen, Indikatoren, Lieferungen, Messwerte, Einstellungen, Audit-Log.
-- Keine Fremdschlüssel: DuckDB erschwert damit Updates; die Importer prüfen die Bezüge selbst.

CREATE TABLE einstellung (
    schluessel VARCHAR PRIMARY KEY,
    wert VARCHAR
);

CREATE TABLE stadtbezirk (
    id VARCHAR PRIMARY KEY,
    nr INTEGER,
    name VARCHAR NOT NULL,
    geometry VARCHAR               -- GeoJSON geometry, WGS84
);

CREATE TABLE sozialraum (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    bezirk_id VARCHAR,             -- stadtbezirk.id, NULL when the city has no districts
    geometry VARCHAR NOT NULL,     -- GeoJSON geometry, WGS84
    centroid_lon DOUBLE,
    centroid_lat DOUBLE,
    flaeche_km2 DOUBLE
);

CREATE TABLE achse (
    name VARCHAR PRIMARY KEY,
    geometry VARCHAR NOT NULL      -- GeoJSON LineString/MultiLineString, WGS84
);

CREATE TABLE indikator (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    kurzname VARCHAR,
    einheit VARCHAR,
    lieferant VARCHAR,
    richtung VARCHAR CHECK (richtung IS NULL OR richtung IN ('higher', 'lower')),
    definition VARCHAR,
    zaehler_def VARCHAR,
    nenner_def VARCHAR,
    min_wert DOUBLE,
    max_wert DOUBLE,
    handlungsfeld VARCHAR,
    sortierung INTEGER
);

-- Alternative names for matching (normalised text -> id), for indicators and Sozialräume.
CREATE TABLE alias (
    art VARCHAR NOT NULL CHECK (art IN ('indikator', 'sozialraum')),
    alias_norm VARCHAR NOT NULL,
    ziel_id VARCHAR NOT NULL,
    alias VARCHAR,
    PRIMARY KEY (art, alias_norm)
);

CREATE SEQUENCE lieferung_seq START 1;
CREATE TABLE lieferung (
    id INTEGER PRIMARY KEY DEFAULT nextval('lieferung_seq'),
    dateiname VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    lieferant VARCHAR,
    berichtsjahr INTEGER,
    importiert_von VARCHAR NOT NULL,
    importiert_am TIMESTAMP NOT NULL DEFAULT current_timestamp,
    n_neu INTEGER DEFAULT 0,
    n_geaendert INTEGER DEFAULT 0,
    n_unveraendert INTEGER DEFAULT 0,
    n_gesperrt INTEGER DEFAULT 0,
    bericht VARCHAR,               -- validation report as JSON
    status VARCHAR NOT NULL DEFAULT 'aktiv' CHECK (status IN ('aktiv', 'zurueckgezogen')),
    zurueckgezogen_am TIMESTAMP,
    zurueckgezogen_von VARCHAR
);

-- Values are never overwritten: each Lieferung adds rows; the newest active one counts.
CREATE TABLE messwert (
    lieferung_id INTEGER NOT NULL,
    indikator_id VARCHAR NOT NULL,
    sozialraum_id VARCHAR NOT NULL,
    jahr INTEGER NOT NULL,
    wert DOUBLE,
    zaehler DOUBLE,
    nenner DOUBLE,
    gesperrt BOOLEAN NOT NULL DEFAULT FALSE,   -- suppressed at source
    PRIMARY KEY (lieferung_id, indikator_id, sozialraum_id, jahr)
);

CREATE VIEW messwert_aktuell AS
SELECT indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt, lieferung_id
FROM (
    SELECT m.*, row_number() OVER (
        PARTITION BY m.indikator_id, m.sozialraum_id, m.jahr ORDER BY m.lieferung_id DESC
    ) AS rn
    FROM messwert m
    JOIN lieferung l ON l.id = m.lieferung_id
    WHERE l.status = 'aktiv'
) WHERE rn = 1;

CREATE SEQUENCE audit_seq START 1;
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
    zeitpunkt TIMESTAMP NOT NULL DEFAULT current_timestamp,
    benutzer VARCHAR NOT NULL,
    aktion VARCHAR NOT NULL,
    objekt VARCHAR,
    details VARCHAR
);
