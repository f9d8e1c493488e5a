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
    at = run_page("pages/uebersicht.py")
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
