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
    assert any(s.value.startswith(f"{TITLE} Lieferung Nr. ") for s in at.subheader)  # default: the latest delivery
    tables = _hinweis_tables(at)
    if page.endswith("uebersicht.py"):  # the demo's latest delivery gives Hinweise city-wide
        assert tables and len(tables[0]) > 0
    for t in tables:
        assert t["Sozialraum"].str.match(r"^/sozialraeume\?sr=[^#&]+#").all()


def test_viewer_start_page(run_page):
    at = run_page("views/uebersicht.py", actor=PUBLIC)
    assert not at.exception
    assert any(s.value.startswith(TITLE) for s in at.subheader)


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


@pytest.mark.parametrize("page,key", [("views/uebersicht.py", "start_hw"), ("views/mein_bezirk.py", "mb_hw")])
def test_seit_der_letzten_sitzung(run_page, page, key):
    """The choice "seit der letzten Sitzung": the newest saved Berichtsstand (demo: "Bericht JHA September 2026"),
    everything the deliveries since then raised; an older meeting or a date in the future change the list."""
    at = run_page(page)
    at.radio(key=f"{key}_modus").set_value("seit der letzten Sitzung").run()
    assert not at.exception
    assert "Neu seit der letzten Sitzung" in [s.value for s in at.subheader]
    sel = at.selectbox(key=f"{key}_sitzung")
    assert sel.value.startswith("Bericht JHA September 2026")
    if page.endswith("uebersicht.py"):
        assert _hinweis_tables(at) and len(_hinweis_tables(at)[0]) > 0
        assert any("seit „Bericht JHA September 2026“" in c.value for c in at.caption)
    sel.set_value("anderes Datum …").run()
    at.date_input(key=f"{key}_datum").set_value(__import__("datetime").date(2030, 1, 1)).run()
    assert not at.exception
    assert "Neu seit dem 01.01.2030" in [s.value for s in at.subheader]
    assert not _hinweis_tables(at) and any("keine Hinweise" in m.value for m in at.markdown)


def test_lieferungen_counts_and_withdrawn_delivery(run_page, app_db):
    from quartier import db, ingest
    from quartier.access import ADMIN, Actor

    con = db.connect(app_db)
    lid, n = con.execute("SELECT lieferung_id, anzahl FROM hinweis_lauf WHERE sicht = 'roh' AND anzahl > 0"
                         " ORDER BY lieferung_id LIMIT 1").fetchone()
    ingest.withdraw(con, lid, Actor("test", ADMIN), "Test")
    con.close()
    at = run_page("views/lieferungen.py")
    assert not at.exception
    hist = next(d.value for d in at.dataframe if "Hinweise" in d.value.columns and "Status" in d.value.columns)
    assert hist.set_index("Nr.").loc[lid, "Hinweise"] == str(n)
    at.selectbox(key="lief_sel").set_value(lid).run()
    assert f"Lieferung Nr. {lid} ist zurückgezogen: ihre {n} Hinweise gelten nicht mehr." in [m.value for m in at.markdown]
