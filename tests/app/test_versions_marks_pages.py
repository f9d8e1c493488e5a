"""The demo with two Sozialräume merged (Issue 19): Handlungsbedarf and Mein Bezirk mark re-allocated values
with "*", name the method and say "Werte vor 2024 auf heutige Sozialräume umgerechnet"."""

from __future__ import annotations

from quartier import access, db
from tests.app.test_versions_demo import merged_db, merged_template, run_merged  # noqa: F401 - fixtures

NOTICE = "Werte vor 2024 auf heutige Sozialräume umgerechnet"


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_handlungsbedarf_table_marks_and_notice(run_merged):  # noqa: F811 - the fixture imported above
    at = run_merged("views/handlungsbedarf.py", actor=access.PUBLIC)
    assert not at.exception, [e.value for e in at.exception]
    t = next(d.value for d in at.dataframe if "Indexwert" in d.value.columns)
    assert "Umrechnung" in t.columns and t["Indexwert"].astype(str).str.endswith(" *").any()
    assert NOTICE in _captions(at) and "„*“ = Wert aus einem früheren Gebietsstand" in _captions(at)


def test_mein_bezirk_tables_mark_and_notice(merged_db, run_merged):  # noqa: F811 - the fixture imported above
    path, (a, _b) = merged_db
    con = db.connect(path)
    bezirk = con.execute("SELECT bezirk_id FROM sozialraum WHERE id = ?", [f"{a}+{_b}"]).fetchone()[0]
    con.close()
    at = run_merged("views/mein_bezirk.py", {"bezirk": bezirk}, actor=access.PUBLIC)
    assert not at.exception, [e.value for e in at.exception]
    ranking = next(d.value for d in at.dataframe if "Rang in der Stadt" in d.value.columns)
    assert "Umrechnung" in ranking.columns and ranking.iloc[:, 3].astype(str).str.endswith(" *").any()
    dev = next(d.value for d in at.dataframe if "Gebiet" in d.value.columns)
    assert dev.drop(columns="Gebiet").astype(str).apply(lambda c: c.str.endswith(" *")).any().any()
    assert NOTICE in _captions(at)
