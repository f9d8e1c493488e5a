-- Handlungsbedarf-Index: gespeicherte Methoden (versioniert) und veröffentlichte Ergebnisse.
-- Ein Ergebnis speichert die Methode (mit Version) und den Datenstand (die benutzten Lieferungen),
-- damit sich eine veröffentlichte Rangfolge auch nach neuen Lieferungen genau nachrechnen lässt.

CREATE SEQUENCE index_methode_seq START 1;
CREATE TABLE index_methode (
    id INTEGER PRIMARY KEY DEFAULT nextval('index_methode_seq'),
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    methode VARCHAR NOT NULL,          -- the method object as JSON (same as a method file)
    erstellt_von VARCHAR NOT NULL,
    erstellt_am TIMESTAMP NOT NULL DEFAULT current_timestamp,
    UNIQUE (name, version)
);

CREATE SEQUENCE index_ergebnis_seq START 1;
CREATE TABLE index_ergebnis (
    id INTEGER PRIMARY KEY DEFAULT nextval('index_ergebnis_seq'),
    methode_name VARCHAR NOT NULL,
    methode_version INTEGER NOT NULL,
    jahr INTEGER NOT NULL,
    datenstand VARCHAR NOT NULL,       -- JSON list of the lieferung ids used
    ergebnis VARCHAR NOT NULL,         -- the full result JSON (as `index --json` prints it)
    titel VARCHAR,
    gespeichert_von VARCHAR NOT NULL,
    gespeichert_am TIMESTAMP NOT NULL DEFAULT current_timestamp
);
