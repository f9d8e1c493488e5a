-- Issue 18: Schwelle je Indikator für die Hinweise (Frühwarnung). Leer = keine Schwelle.
-- Die Richtung kommt aus indikator.richtung: bei "higher" gilt Überschreiten, bei "lower" Unterschreiten als Hinweis.
ALTER TABLE indikator ADD COLUMN schwelle DOUBLE;
