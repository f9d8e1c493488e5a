-- Issue 16: feste Zahl der Nachkommastellen je Indikator (Tabellen, Diagramme, Tooltips, PDF, Export-Vorschau).
-- NULL = nach Einheit (Anzahl 0, Anteile und Raten 1); erlaubt 0 bis 4.
ALTER TABLE indikator ADD COLUMN dezimalstellen INTEGER;
