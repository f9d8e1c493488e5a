"""A file with thousands of distinct unknown names (issue 20, item 7): findings and suggestions are capped per rule.

Before, every distinct unknown Sozialraum got its own finding, a fuzzy suggestion and a full scan of all rows: a
1,000,000-row file with 500,000 unknown names analysed for hours while the server held it.
"""

from __future__ import annotations

from quartier import ingest
from quartier.ingest.analysis import MAX_PER_RULE
from quartier.ingest.match import Matcher
from tests.unit.ingest_files import long_rows, xlsx

SGB = "Minderjährige in SGB-II-Bedarfsgemeinschaften"
N = 3000


def test_distinct_unknown_names_are_listed_up_to_the_cap_and_counted(con, tmp_path, monkeypatch):
    calls = []
    orig = Matcher.suggest
    monkeypatch.setattr(Matcher, "suggest", lambda self, art, text: calls.append(text) or orig(self, art, text))
    rows = long_rows([(2025, f"Unbekannt {i:05d}", SGB, 1, 10, 10.0) for i in range(N)], title=False)
    path = xlsx(tmp_path / "viele_unbekannte.xlsx", {"Daten": rows})
    fa = ingest.analyse_file(con, path.read_bytes(), path.name, lieferant="Jobcenter")
    unknown = [f for f in fa.errors if f.rule == "unbekannt_sozialraum"]
    assert len(unknown) == MAX_PER_RULE + 1
    assert [f.value for f in unknown[:2]] == ["Unbekannt 00000", "Unbekannt 00001"]  # in file order, with cells
    assert unknown[0].cell == "B2" and unknown[1].cell == "B3"
    assert unknown[-1].message.startswith(f"… und {N - MAX_PER_RULE} weitere") and f"{N - MAX_PER_RULE} Zeile(n)" in unknown[-1].message
    assert len(calls) <= MAX_PER_RULE and len(fa.suggestions) <= MAX_PER_RULE
