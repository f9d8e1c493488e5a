-- Handlungsempfehlungen und Angebote: eine Empfehlung nennt die Angebote, die sie umsetzen
-- (ein Angebot, das durch die Empfehlung entstand oder erweitert wurde). Viele zu viele.

CREATE TABLE empfehlung_angebot (
    empfehlung_id VARCHAR NOT NULL,
    angebot_id VARCHAR NOT NULL,
    PRIMARY KEY (empfehlung_id, angebot_id)
);

-- die bisher ungenutzte Einzelspalte angebot.empfehlung_nr (014) übernehmen, soweit die Empfehlung existiert
INSERT INTO empfehlung_angebot (empfehlung_id, angebot_id)
SELECT DISTINCT a.empfehlung_nr, a.id FROM angebot a JOIN empfehlung e ON e.id = a.empfehlung_nr
WHERE a.empfehlung_nr IS NOT NULL;
