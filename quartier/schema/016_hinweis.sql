-- Issue 18: Hinweise je Lieferung. Beim Import berechnet und gespeichert, damit Lieferungen-Seite und CLI zeigen,
-- was eine Lieferung ausgelöst hat. Zwei Sichten: 'roh' (Bearbeitung, Rohwerte) und 'geschuetzt' (Betrachtung,
-- nur aus geschützten Werten). rang = Reihenfolge nach Wichtigkeit. alt/neu: Zahl (…_wert) oder Klasse (…_text).
-- Eine zurückgezogene Lieferung behält ihre Zeilen; sie gelten über lieferung.status als zurückgezogen.
CREATE TABLE hinweis (
    lieferung_id INTEGER NOT NULL,
    sicht VARCHAR NOT NULL,
    rang INTEGER NOT NULL,
    sozialraum_id VARCHAR NOT NULL,
    indikator VARCHAR NOT NULL,
    jahr INTEGER NOT NULL,
    art VARCHAR NOT NULL,
    alt_wert DOUBLE,
    alt_text VARCHAR,
    neu_wert DOUBLE,
    neu_text VARCHAR,
    text VARCHAR NOT NULL,
    schlechter BOOLEAN,
    staerke DOUBLE,
    PRIMARY KEY (lieferung_id, sicht, rang)
);
CREATE TABLE hinweis_lauf (
    lieferung_id INTEGER NOT NULL,
    sicht VARCHAR NOT NULL,
    berechnet_am TIMESTAMP NOT NULL DEFAULT current_timestamp,
    anzahl INTEGER NOT NULL,
    sekunden DOUBLE,
    PRIMARY KEY (lieferung_id, sicht)
);
-- Profile für „Vergleichbare Sozialräume“: z-standardisierte Werte aller Sozialräume eines Jahres, je Datenstand
-- (stand = neuester Audit-Eintrag ohne Anmeldungen), Sicht und Indikatorenauswahl gespeichert, damit eine Abfrage
-- nicht jedes Mal alle Werte lesen muss. z: float64-Matrix (Sozialräume × Indikatoren, zeilenweise).
CREATE TABLE profil_cache (
    schluessel VARCHAR PRIMARY KEY,
    stand BIGINT NOT NULL,
    ids VARCHAR NOT NULL,
    namen VARCHAR NOT NULL,
    z BLOB NOT NULL,
    berechnet_am TIMESTAMP NOT NULL DEFAULT current_timestamp
);
