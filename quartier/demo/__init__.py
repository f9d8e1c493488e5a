"""The demo city (hagen.py) and synthetic cities (synth.py). Names of the demo live here and in the demo modules only."""

CITY_NAME = "Hagen"
AXIS_NAME = "B 7"
COMMAND_HELP = f"die Demo-Stadt {CITY_NAME} aufbauen (Beispieldaten)"
COMMAND_DESCRIPTION = (f"Baut die Demo-Stadt {CITY_NAME}: 23 Beispiel-Sozialräume, {AXIS_NAME}, Kennzahlen 2015–2025 "
                       "(Beispieldaten, keine amtlichen Zahlen).")
