"""Issue 18 §2: the Hinweise sections on the start page, Mein Bezirk and Lieferungen (links to the Steckbrief)."""

from __future__ import annotations

import re

import pytest

from quartier.access import PUBLIC
from quartier.ui.hinweise import TITLE


def _hinweis_tables(at):
    return [d.value for d in at.dataframe if {"Hinweis", "Art", "Sozialraum"} <= set(d.value.columns)]


@pytest.mark.parametrize("page", ["views/uebersicht.py", "views/mein_bezirk.py"])
def test_section_lists_hinweise_with_links(run_page, page):
    at = run_page(page)
    assert not at.exception
    assert TITLE in [s.value for s in at.subheader]
    tables = _hinweis_tables(at)
    if page.endswith("uebersicht.py"):  # the demo's latest delivery gives Hinweise city-wide
        assert tables and len(tables[0]) > 0
    for t in tables:
        assert t["Sozialraum"].str.match(r"^/sozialraeume\?sr=[^#&]+#").all()


def test_viewer_start_page(run_page):
    at = run_page("views/uebersicht.py", actor=PUBLIC)
    assert not at.exception
    assert TITLE in [s.value for s in at.subheader]


def test_lieferungen_shows_hinweise_of_a_delivery(run_page):
    at = run_page("views/lieferungen.py")
    assert not at.exception
    assert any(s.value.startswith("Hinweise aus Lieferung Nr.") for s in at.subheader)


def test_steckbrief_shows_comparable_areas(run_page):
    at = run_page("views/sozialraeume.py", query={"sr": "M04"})
    assert not at.exception
    t = [d.value for d in at.dataframe if "ähnlich, weil …" in d.value.columns]
    assert t and len(t[0]) == 5 and t[0]["Sozialraum"].str.startswith("/sozialraeume?sr=").all()
    assert "Handlungsempfehlungen" in t[0].columns
    cards = " ".join(m.value for m in at.markdown)
    assert re.search(r"### \d+,\d % \(\d+,\d–\d+,\d\)", cards)  # a value with its 95 % interval


def test_karte_corridor_test_sentence_and_lisa(run_page):
    at = run_page("views/karte.py")
    assert not at.exception
    md = " ".join(m.value for m in at.markdown)
    assert "Ist der Unterschied größer als der Zufall?" in md and "p " in md and "Grenzen:" in md
    lisa = [d.value for d in at.dataframe if "Lokales Muster (LISA)" in d.value.columns]
    assert lisa and len(lisa[0]) > 0
