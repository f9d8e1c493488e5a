-- Handlungsempfehlungen: Katalog, Zuordnungen, Änderungsverlauf (nur anhängen), Berichtsstände.
-- Abgeleitete Kennzeichen ("überfällig", "ohne Aktualisierung") werden nie gespeichert, sondern berechnet.

CREATE TABLE empfehlung (
    id VARCHAR PRIMARY KEY,                 -- Nummer, z. B. "HE-01"
    titel VARCHAR NOT NULL,
    beschreibung VARCHAR,
    handlungsfeld VARCHAR NOT NULL,
    ebene VARCHAR NOT NULL DEFAULT 'Sozialraum' CHECK (ebene IN ('Sozialraum', 'stadtweit')),
    zielgruppe VARCHAR,                     -- "Kinder|Jugendliche|Familien|Fachkräfte"
    federfuehrung VARCHAR,
    beteiligte VARCHAR,                     -- mitwirkende Ämter, "|"-getrennt
    kontakt VARCHAR,
    prioritaet VARCHAR CHECK (prioritaet IS NULL OR prioritaet IN ('hoch', 'mittel', 'niedrig')),
    vorlage VARCHAR,                        -- z. B. "1069/2020"
    gremium VARCHAR,                        -- z. B. "Jugendhilfeausschuss"
    beschluss_datum DATE,
    beginn_geplant DATE,
    ende_geplant DATE,
    beginn_ist DATE,
    ende_ist DATE,
    status VARCHAR NOT NULL DEFAULT 'offen' CHECK (status IN (
        'offen', 'in Planung', 'in Umsetzung', 'umgesetzt', 'verstetigt', 'zurückgestellt', 'verworfen')),
    fortschritt INTEGER CHECK (fortschritt IS NULL OR (fortschritt >= 0 AND fortschritt <= 100)),
    oeffentlich BOOLEAN NOT NULL DEFAULT TRUE,
    ausgeschieden BOOLEAN NOT NULL DEFAULT FALSE,
    beispiel BOOLEAN NOT NULL DEFAULT FALSE,  -- Beispieldatensatz der Demo
    erstellt_am TIMESTAMP NOT NULL DEFAULT current_timestamp,
    erstellt_von VARCHAR,
    geaendert_am TIMESTAMP NOT NULL DEFAULT current_timestamp,
    geaendert_von VARCHAR
);

CREATE TABLE empfehlung_sozialraum (
    empfehlung_id VARCHAR NOT NULL,
    sozialraum_id VARCHAR NOT NULL,
    PRIMARY KEY (empfehlung_id, sozialraum_id)
);

CREATE TABLE empfehlung_indikator (
    empfehlung_id VARCHAR NOT NULL,
    indikator_id VARCHAR NOT NULL,
    PRIMARY KEY (empfehlung_id, indikator_id)
);

-- Append-only: jede Änderung eines Feldes (auch Anlage und Ausscheiden) mit Begründung, wer und wann.
CREATE SEQUENCE empfehlung_verlauf_seq START 1;
CREATE TABLE empfehlung_verlauf (
    id BIGINT PRIMARY KEY DEFAULT nextval('empfehlung_verlauf_seq'),
    empfehlung_id VARCHAR NOT NULL,
    feld VARCHAR NOT NULL,
    alt VARCHAR,
    neu VARCHAR,
    begruendung VARCHAR,
    benutzer VARCHAR NOT NULL,
    zeitpunkt TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Eingefrorene Berichtsstände: der ganze Katalog zu einem Stichtag als JSON.
CREATE SEQUENCE berichtsstand_seq START 1;
CREATE TABLE berichtsstand (
    id INTEGER PRIMARY KEY DEFAULT nextval('berichtsstand_seq'),
    name VARCHAR NOT NULL UNIQUE,
    stichtag DATE NOT NULL,
    erstellt_von VARCHAR NOT NULL,
    erstellt_am TIMESTAMP NOT NULL DEFAULT current_timestamp,
    daten VARCHAR NOT NULL
);

INSERT INTO einstellung (schluessel, wert) VALUES ('empfehlung_aktualisierung_monate', '6')
ON CONFLICT (schluessel) DO NOTHING;
