"""Import messages: one message per cause (a numerator above its denominator, nothing else for that row)."""

from __future__ import annotations

import json


def test_numerator_above_denominator_is_one_message(cli, demo_copy, tmp_path):
    f = tmp_path / "jugendamt_2025.csv"
    f.write_text("Berichtsjahr;Sozialraum;Kennzahl;Zähler;Nenner;Wert\n"
                 "2025;Eilpe/Delstern/Selbecke;Hilfen zur Erziehung je 1.000 unter 21-Jährige;3000;1816;1652,0\n"
                 "2025;Dahl/Priorei/Rummenohl;Hilfen zur Erziehung je 1.000 unter 21-Jährige;15;1281;11,7\n",
                 encoding="utf-8")
    p = cli("import", str(f), "--db", str(demo_copy), "--dry-run", "--json")
    out = json.loads(p.stdout)
    row2 = [x for x in out["errors"] + out["warnings"] if x["cell"].endswith("2") and x["cell"][:1].isalpha()]
    assert [x["rule"] for x in row2] == ["zaehler_groesser_nenner"], row2
    assert not any("Anteil 0,125" in x["message"] for x in out["errors"] + out["warnings"])
