-- Angemeldet bleiben: Sitzungen hinter dem signierten Sitzungs-Cookie (HttpOnly, SameSite=Strict).
-- Gespeichert wird nur der SHA-256-Hash der zufälligen Sitzungskennung, nie die Kennung selbst.

CREATE TABLE sitzung (
    kennung_hash VARCHAR PRIMARY KEY,   -- SHA-256 (hex) der Sitzungskennung aus dem Cookie
    benutzer VARCHAR NOT NULL,
    angelegt_am TIMESTAMP NOT NULL,
    zuletzt_aktiv TIMESTAMP NOT NULL,
    browser VARCHAR,                    -- User-Agent beim Anmelden (gekürzt)
    beendet_am TIMESTAMP,
    beendet_grund VARCHAR               -- abmeldung, alle, administration, passwort, rolle, deaktiviert, inaktiv
);

-- Der Schlüssel, mit dem Quartier die Cookies signiert: je Installation zufällig, beim ersten Gebrauch angelegt.
CREATE TABLE sitzung_schluessel (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    schluessel VARCHAR NOT NULL,
    angelegt_am TIMESTAMP NOT NULL DEFAULT current_timestamp
);
