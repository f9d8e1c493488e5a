-- Importer (Issue 3): gemerkte Spaltenzuordnungen je Lieferant und ein Index für die Duplikatprüfung.
-- Angenommene Namensvorschläge („Meinten Sie …?“) landen in der vorhandenen Tabelle alias.

CREATE TABLE import_spaltenzuordnung (
    lieferant VARCHAR NOT NULL,
    kopf_norm VARCHAR NOT NULL,      -- normalisierte Spaltenüberschrift (quartier.names.normalize)
    kopf VARCHAR,                    -- Überschrift wie geliefert
    rolle VARCHAR NOT NULL,          -- sozialraum, bezeichnung, indikator, jahr, wert, zaehler, nenner, ignorieren
    indikator_id VARCHAR,            -- bei Spalten je Indikator (breit nach Indikator)
    jahr INTEGER,                    -- bei Spalten je Jahr (breit nach Jahr)
    geaendert_von VARCHAR,
    geaendert_am TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (lieferant, kopf_norm)
);

CREATE INDEX lieferung_sha256_idx ON lieferung (sha256);
