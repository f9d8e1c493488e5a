-- Zugang: lokale Benutzerkonten (Argon2-Hashes), Rollen, Sperre nach Fehlversuchen.
-- OIDC-Benutzer brauchen keinen Eintrag; ein Eintrag ohne Passwort kann sie deaktivieren.

CREATE TABLE benutzer (
    name VARCHAR PRIMARY KEY,
    passwort_hash VARCHAR,             -- Argon2id; NULL = keine lokale Anmeldung
    rolle VARCHAR NOT NULL CHECK (rolle IN ('Betrachtung', 'Bearbeitung', 'Administration')),
    rohdaten BOOLEAN NOT NULL DEFAULT FALSE,   -- darf Werte unter der Mindestfallzahl sehen
    deaktiviert BOOLEAN NOT NULL DEFAULT FALSE,
    fehlversuche INTEGER NOT NULL DEFAULT 0,
    gesperrt_bis TIMESTAMP,
    angelegt_am TIMESTAMP NOT NULL DEFAULT current_timestamp,
    angelegt_von VARCHAR,
    passwort_geaendert_am TIMESTAMP,
    letzte_anmeldung TIMESTAMP
);
