"""AppTest of the page "Mein Bezirk": district from the URL, figures from the report core, presentation mode."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from quartier import db
from quartier.access import VIEWER, Actor
from quartier.reports import scope as report_scope
from quartier.reports import summary as report_summary

PAGE = "views/mein_bezirk.py"
VIEWER_ACTOR = Actor("betrachtung", VIEWER)
SESSION = {"quartier_actor": VIEWER_ACTOR}  # logged in as a viewer (the app has a login gate)


def _md(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title])


def _qp(at, key):
    v = at.query_params.get(key)
    return v[0] if isinstance(v, list) else v


@pytest.fixture(scope="module")
def haspe(demo_db):
    con = db.connect(demo_db, read_only=True)
    try:
        yield report_summary.district_summary(con, "haspe", actor=VIEWER_ACTOR)
    finally:
        con.close()


def test_district_from_url_shows_the_same_figures_as_the_report(run_page, haspe):
    at = run_page(PAGE, query={"bezirk": "haspe"}, session=SESSION)
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="mb_bezirk").value == "haspe"
    text = _md(at)
    assert "Mein Bezirk – Haspe" in text
    assert "Beispieldaten" in "\n".join(i.value for i in at.info)
    for r in haspe.headline.to_dict("records"):
        assert r["wert_text"] in text and r["trend_text"] in text and r["stadt_text"] in text, r["name"]
    # colour is not the only carrier: the cards say günstig/ungünstig in words
    assert "(günstig)" in text or "(ungünstig)" in text
    frames = [d.value for d in at.dataframe]
    ranking = next(f for f in frames if "Rang in der Stadt" in f.columns)
    assert list(ranking["Nr."]) == list(haspe.ranking["sozialraum_id"])
    assert set(ranking["Sozialraum"]) == {"Haspe-Zentrum", "Westerbauer/Quambusch", "Hestert/Kettelbach", "Spielbrink/Geweke"}
    recs = next(f for f in frames if "Seit der letzten Sitzung geändert" in f.columns)
    assert list(recs["Nr."]) == list(haspe.recommendations["id"])
    # map with its text alternative, chart with its table
    assert len(at.get("deck_gl_json_chart")) == 1
    assert "Die B 7 verläuft durch" in text
    assert len(at.get("vega_lite_chart")) == 1
    assert any("Bezirk Haspe" in set(f.get("Gebiet", [])) for f in frames)
    assert _qp(at, "bezirk") == "haspe"


@pytest.mark.parametrize("value", ["Eilpe/Dahl", "eilpe dahl", "EILPE-DAHL"])
def test_district_names_in_the_url_are_tolerant(run_page, value):
    at = run_page(PAGE, query={"bezirk": value}, session=SESSION)
    assert not at.exception
    assert at.selectbox(key="mb_bezirk").value == "eilpe-dahl"
    assert "Mein Bezirk – Eilpe/Dahl" in _md(at)


def test_unknown_district_says_which_exist(run_page):
    at = run_page(PAGE, query={"bezirk": "Atlantis"}, session=SESSION)
    assert not at.exception
    warn = "\n".join(w.value for w in at.warning)
    assert "Atlantis" in warn and "Haspe" in warn and "Hohenlimburg" in warn


def test_changes_since_the_last_meeting(run_page, demo_db):
    at = run_page(PAGE, query={"bezirk": "haspe"}, session=SESSION)
    at.date_input(key="mb_seit").set_value(dt.date(2020, 1, 1)).run()
    assert not at.exception
    con = db.connect(demo_db, read_only=True)
    try:
        recs, _ = report_summary.recommendations(con, report_scope.bezirk_scope(con, "haspe"), dt.date(2020, 1, 1), actor=VIEWER_ACTOR)
    finally:
        con.close()
    n = int(recs["geaendert_seit"].sum())
    assert n > 0
    assert f"{n} seit der letzten Sitzung (01.01.2020) geändert" in _md(at)
    assert _qp(at, "seit") == "2020-01-01"  # the meeting date goes into the link as well
    at.checkbox(key="mb_nur_geaendert").check().run()
    table = next(d.value for d in at.dataframe if "Seit der letzten Sitzung geändert" in d.value.columns)
    assert len(table) == n and table["Seit der letzten Sitzung geändert"].str.startswith("ja").all()


def test_presentation_mode_by_url_and_navigation(run_page, haspe):
    at = run_page(PAGE, query={"bezirk": "haspe", "praesentation": "1"}, session=SESSION)
    assert not at.exception, [e.value for e in at.exception]
    text = _md(at)
    assert 'data-testid="stSidebar"' in text and "display:none" in text   # sidebar hidden
    assert "2.6vh, 28px" in text and "4.45vh, 48px" in text  # large type, scaled to the projector's height
    n = int(re.search(r"Folie 1 von (\d+): Überblick und Karte", text).group(1))
    assert n == 8  # Haspe: 5 topics, the development as chart and table, 11 recommendations on 3 slides
    assert len(at.get("deck_gl_json_chart")) == 1
    assert not at.dataframe  # no small grid tables on the projector
    at.button(key="mb_next").click().run()
    text = _md(at)
    assert f"Folie 2 von {n}: Kennzahlen" in text and "qb-big" in text
    for r in haspe.headline.to_dict("records"):
        assert r["wert_text"] in text and r["trend_text"] in text
    assert _qp(at, "folie") == "2" and _qp(at, "praesentation") == "1"
    for _ in range(n - 2):
        at.button(key="mb_next").click().run()
    assert f"Folie {n} von {n}: Handlungsempfehlungen (3/3)" in _md(at)
    assert at.button(key="mb_next").disabled
    at.button(key="mb_prev").click().run()
    assert f"Folie {n - 1} von {n}: Handlungsempfehlungen (2/3)" in _md(at)
    for _ in range(3):
        at.button(key="mb_prev").click().run()
    assert f"Folie 4 von {n}: Entwicklung (1/2)" in _md(at)
    at.button(key="mb_end").click().run()
    assert not at.exception
    assert "Folie 4 von" not in _md(at) and at.toggle(key="mb_praes").value is False
    assert _qp(at, "praesentation") is None


def test_meeting_date_from_the_url(run_page):
    at = run_page(PAGE, query={"bezirk": "haspe", "seit": "2020-01-01"}, session=SESSION)
    assert not at.exception
    assert at.date_input(key="mb_seit").value == dt.date(2020, 1, 1)
    assert "seit der letzten Sitzung (01.01.2020) geändert" in _md(at)


def test_presentation_can_start_on_a_given_slide(run_page):
    at = run_page(PAGE, query={"bezirk": "hagen-mitte", "praesentation": "1", "folie": "3"}, session=SESSION)
    assert not at.exception
    text = _md(at)
    assert re.search(r"Folie 3 von \d+: Sozialräume nach Handlungsbedarf", text)
    assert "Wehringhausen" in text and "qb-table" in text


def test_pdf_protection_choice_only_for_staff(run_page):
    from quartier.access import ADMIN

    at = run_page(PAGE, query={"bezirk": "haspe"}, session={"quartier_actor": Actor("planung", ADMIN, raw_data=True)})
    assert not at.exception
    assert at.checkbox(key="mb_pdf_schutz").value is True  # reports for council bodies are protected by default
    viewer = run_page(PAGE, query={"bezirk": "haspe"}, session=SESSION)
    assert "mb_pdf_schutz" not in [c.key for c in viewer.checkbox]


def test_viewers_share_one_cached_view_people_do_not_matter(run_page, monkeypatch):
    """Twenty Bezirksvertreter logged in as themselves share the cached district view (by role and raw-data
    right, not by name); an editor, who may see more, gets their own."""
    from quartier.access import EDITOR, VIEWER, Actor
    from quartier.ui import mein_bezirk as mb
    from quartier.ui.common import view_of

    assert view_of(Actor("anna", VIEWER)) == view_of(Actor("bernd", VIEWER))
    assert view_of(Actor("anna", VIEWER)) != view_of(Actor("anna", VIEWER, raw_data=True))
    calls = []
    real = report_summary.district_summary
    monkeypatch.setattr(report_summary, "district_summary", lambda *a, **k: calls.append(k["actor"]) or real(*a, **k))
    mb._summary.clear()
    for name in ("anna", "bernd", "carla"):
        at = run_page("views/mein_bezirk.py", actor=Actor(name, VIEWER))
        assert not at.exception, [e.value for e in at.exception]
    assert len(calls) == 1 and calls[0].role == VIEWER
    at = run_page("views/mein_bezirk.py", actor=Actor("dora", EDITOR))
    assert not at.exception
    assert len(calls) == 2 and calls[1].role == EDITOR


def test_presentation_by_the_page_toggle_keeps_district_and_slide(run_page):
    """Switched on with the page's own toggle (not the URL): the selectors are not drawn while presenting,
    "Weiter" and "Präsentation beenden" must still work and keep the district (KeyError before)."""
    at = run_page(PAGE, query={"bezirk": "haspe"}, session=SESSION)
    at.selectbox(key="mb_bezirk").set_value("eilpe-dahl").run()
    at.toggle(key="mb_praes").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Folie 1 von " in _md(at)
    at.button(key="mb_next").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Folie 2 von " in _md(at) and "Eilpe/Dahl" in _md(at)
    assert _qp(at, "folie") == "2" and _qp(at, "bezirk") == "eilpe-dahl"
    at.run()  # a rerun keeps district and slide
    assert "Folie 2 von " in _md(at) and _qp(at, "bezirk") == "eilpe-dahl"
    at.button(key="mb_end").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Folie 2 von " not in _md(at)
    assert at.selectbox(key="mb_bezirk").value == "eilpe-dahl" and at.toggle(key="mb_praes").value is False


def test_filters_survive_page_changes(run_page):
    """Indicator, year and district chosen on one page are still chosen after visiting others."""
    at = run_page("views/karte.py", session=SESSION)
    at.sidebar.selectbox(key="sel_indikator").set_value("seu_sprache").run()
    at.sidebar.selectbox(key="sel_jahr").set_value(2020).run()
    at.switch_page(PAGE).run()
    at.selectbox(key="mb_bezirk").set_value("haspe").run()
    at.switch_page("views/uebersicht.py").run()
    at.switch_page("views/karte.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key="sel_indikator").value == "seu_sprache"
    assert at.sidebar.selectbox(key="sel_jahr").value == 2020
    at.switch_page(PAGE).run()
    assert at.selectbox(key="mb_bezirk").value == "haspe"
