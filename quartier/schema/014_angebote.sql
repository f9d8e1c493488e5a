-- Angebote und Versorgung: Kategorienkatalog, Angebote mit Verlauf, Fußwegenetz, gespeicherte Planungsszenarien.

CREATE TABLE angebot_kategorie (
    name VARCHAR PRIMARY KEY,
    farbe VARCHAR,                      -- #RRGGBB (farbenblind-sichere Palette)
    symbol VARCHAR,                     -- Kreis, Quadrat, Dreieck, Raute, Stern …
    zielgruppe_indikator VARCHAR,       -- indikator.id der Zielgruppe (z. B. Kinder unter 18)
    radius_m DOUBLE NOT NULL DEFAULT 500,
    sortierung INTEGER
);

CREATE TABLE angebot (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    kategorie VARCHAR NOT NULL,
    traeger VARCHAR,
    adresse VARCHAR,
    plaetze DOUBLE,
    zielgruppe VARCHAR,
    beginn DATE,
    ende DATE,
    lon DOUBLE,                          -- WGS84; NULL = nur Sozialraum bekannt (zählt im Gebiet, nicht in der Erreichbarkeit)
    lat DOUBLE,
    sozialraum_id VARCHAR,
    empfehlung_nr VARCHAR,               -- Handlungsempfehlung, durch die das Angebot entstand oder erweitert wurde
    status VARCHAR NOT NULL DEFAULT 'aktiv' CHECK (status IN ('aktiv', 'geschlossen')),
    geaendert_am TIMESTAMP NOT NULL DEFAULT current_timestamp,
    geaendert_von VARCHAR
);

CREATE SEQUENCE angebot_verlauf_seq START 1;
CREATE TABLE angebot_verlauf (
    id INTEGER PRIMARY KEY DEFAULT nextval('angebot_verlauf_seq'),
    angebot_id VARCHAR NOT NULL,
    aktion VARCHAR NOT NULL CHECK (aktion IN ('neu', 'geaendert', 'geschlossen')),
    vorher VARCHAR,                      -- JSON der Felder vor der Änderung
    nachher VARCHAR,                     -- JSON der Felder nach der Änderung
    datei VARCHAR,
    benutzer VARCHAR NOT NULL,
    zeitpunkt TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Fußwegenetz der Stadt (GeoJSON-Linien, WGS84); leer = Erreichbarkeit in Luftlinie.
CREATE TABLE angebot_netz (
    nr INTEGER PRIMARY KEY,
    geometry VARCHAR NOT NULL,
    datei VARCHAR,
    geladen_von VARCHAR,
    geladen_am TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Planungsszenarien: nur was ausdrücklich unter einem Namen gespeichert wird.
CREATE TABLE angebot_szenario (
    name VARCHAR PRIMARY KEY,
    kategorie VARCHAR NOT NULL,
    angebote VARCHAR NOT NULL,           -- JSON [{"lon","lat","plaetze","name"}]
    gespeichert_von VARCHAR NOT NULL,
    gespeichert_am TIMESTAMP NOT NULL DEFAULT current_timestamp
);
