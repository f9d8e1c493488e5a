-- Leitindikatoren (Issue 15): die Kennzahlen der Startseite, von Mein Bezirk und der Berichte kommen aus dem Katalog,
-- nicht aus einer Liste im Code. NULL = nicht gesetzt; ohne gesetzte Kennzeichen gelten die ersten Kennzahlen des Katalogs.
ALTER TABLE indikator ADD COLUMN leitindikator BOOLEAN;
