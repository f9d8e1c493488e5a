"""Pages after a partial delivery (5 of 23 Sozialräume for a new year): no city value, the reason instead."""

from __future__ import annotations

import pytest

from quartier.access import VIEWER, Actor
from tests.app.conftest import TEST_ADMIN
from tests.coverage_files import INCOMPLETE_TEXT, PARTIAL_INDICATOR, PARTIAL_YEAR

VIEWER_ACTOR = Actor("test-gast", VIEWER)


@pytest.fixture
def partial_db(partial_app_db):
    return partial_app_db


def _text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [m.label for m in at.metric]
    parts += [m.value for m in at.metric] + [e.value for e in at.info] + [e.value for e in at.warning]
    for df in at.dataframe:
        parts.append(df.value.to_string())
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("actor", [TEST_ADMIN, VIEWER_ACTOR], ids=["admin", "viewer"])
def test_start_page_cards_use_complete_year(partial_db, run_page, actor):
    at = run_page("views/uebersicht.py", actor=actor)
    assert not at.exception, [e.value for e in at.exception]
    labels = [m.label for m in at.metric if "Erziehung" in m.label]
    assert labels and all(f"({PARTIAL_YEAR - 1})" in lab for lab in labels)
    assert INCOMPLETE_TEXT in _text(at)


@pytest.mark.parametrize("actor", [TEST_ADMIN, VIEWER_ACTOR], ids=["admin", "viewer"])
def test_karte_city_value_and_corridor(partial_db, run_page, actor):
    at = run_page("views/karte.py", actor=actor,
                  session={"sel_indikator": PARTIAL_INDICATOR, "sel_jahr": PARTIAL_YEAR, "karte_sr": "M04"})
    assert not at.exception, [e.value for e in at.exception]
    text = _text(at)
    assert f"Gesamtstadt: {INCOMPLETE_TEXT}" in text.replace("**", "")
    assert "nicht berechnet" in text
    box = at.checkbox(key="karte_unvollstaendig")
    box.check().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "trotz unvollständiger Lieferung" in _text(at)


def test_steckbrief_reference_says_incomplete(partial_db, run_page):
    at = run_page("views/sozialraeume.py", query={"sr": "M04", "ind": PARTIAL_INDICATOR})
    assert not at.exception, [e.value for e in at.exception]
    assert INCOMPLETE_TEXT in _text(at)


def test_mein_bezirk_cards_use_complete_year(partial_db, run_page):
    at = run_page("views/mein_bezirk.py", query={"bezirk": "hagen-mitte"})
    assert not at.exception, [e.value for e in at.exception]
    html = _text(at)
    assert f"Hilfen zur Erziehung je 1.000 unter 21-Jährige ({PARTIAL_YEAR - 1})" in html


def test_lieferstatus_shows_coverage(partial_db, run_page):
    at = run_page("views/lieferungen.py")
    assert not at.exception, [e.value for e in at.exception]
    text = _text(at)
    assert "⚠ 5/23 unvollständig" in text and "✓ 23/23" in text
