"""Every registered page renders on the demo city without an exception."""

import pytest

from quartier.ui.pages import PAGES


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_page_renders(run_page, spec):
    at = run_page(spec.file)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, "Seite ohne Überschrift"
    text = " ".join(m.value for m in at.markdown) + " ".join(i.value for i in at.info)
    assert "Beispieldaten" in text


def test_overview_shows_city_figures(run_page):
    at = run_page("views/uebersicht.py")
    assert at.title[0].value == "Übersicht – Hagen"
    labels = [m.label for m in at.metric]
    assert any("SGB-II" in label for label in labels)
    # German number format: the population has a thousands dot
    values = {m.label: m.value for m in at.metric}
    pop = next(v for k, v in values.items() if k.startswith("Einwohnerinnen und Einwohner"))
    assert "." in pop and "," not in pop
    md = " ".join(m.value for m in at.markdown)
    assert "5 Stadtbezirke" in md and "23 Sozialräumen" in md
    assert "Wehringhausen" in md


def test_overview_of_a_large_city_lists_areas_only_in_the_table(tmp_path, monkeypatch):
    """With hundreds of Sozialräume the start page names them in the table, not in one list per district."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from quartier import access, db
    from quartier.demo import synth
    from quartier.ui.session import ACTOR_KEY

    path = tmp_path / "gross.duckdb"
    con = db.connect(path)
    synth.build(con, 320, 2, 2, seed=3, actor=access.cli_actor("test"), force=True)
    con.close()
    monkeypatch.setenv("QUARTIER_DB", str(path))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.session_state[ACTOR_KEY] = access.Actor("test-admin", access.ADMIN, raw_data=True)
    at.run()
    assert not at.exception
    md = " ".join(m.value for m in at.markdown)
    assert "320 Sozialräumen" in md and "stehen in der Tabelle" in md
    assert not any(m.value.startswith("- ") for m in at.markdown)  # no per-district name lists
    assert len(at.dataframe[0].value) == 320
