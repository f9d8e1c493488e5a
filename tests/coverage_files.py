"""A partial delivery for the coverage tests: 5 of the demo's 23 Sozialräume for a new year."""

from __future__ import annotations

from pathlib import Path

PARTIAL_YEAR = 2026
PARTIAL_INDICATOR = "hze_quote"
PARTIAL_ROWS = [  # Sozialraum (by name), Zähler, Nenner, Wert
    ("Eilpe/Delstern/Selbecke", 50, 1816, "27,5"), ("Dahl/Priorei/Rummenohl", 15, 1281, "11,7"),
    ("Hohenlimburg-Zentrum/Elsey", 65, 1784, "36,4"), ("Halden/Berchum/Henkhausen", 30, 1250, "24,0"),
    ("Wehringhausen", 80, 2000, "40,0"),
]
INCOMPLETE_TEXT = "unvollständig: 5 von 23 Sozialräumen geliefert"


def write_partial(path: Path) -> Path:
    lines = ["Berichtsjahr;Sozialraum;Kennzahl;Zähler;Nenner;Wert"]
    lines += [f"{PARTIAL_YEAR};{name};Hilfen zur Erziehung je 1.000 unter 21-Jährige;{z};{n};{w}"
              for name, z, n, w in PARTIAL_ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_partial(db_path: Path, tmp: Path) -> None:
    """Import the partial delivery with the real importer (as the CLI does)."""
    from quartier.cli import main

    f = write_partial(tmp / "jugendamt_2026.csv")
    assert main(["import", str(f), "--db", str(db_path), "--json", "--user", "test"]) == 0
