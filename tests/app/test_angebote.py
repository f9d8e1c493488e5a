"""The page "Angebote": map with offer and reach layers, table, need x supply, scenario by coordinates, roles."""

from __future__ import annotations

import json

from quartier.access import ADMIN, VIEWER, Actor
from quartier.ui import angebote as ui

PAGE = "views/angebote.py"
STAFF = Actor("test-admin", ADMIN, raw_data=True)
GUEST = Actor("test-gast", VIEWER)


def _deck(at):
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def _md(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_page_shows_offers_reach_table_and_text(run_page):
    at = run_page(PAGE, actor=GUEST)
    assert not at.exception, [e.value for e in at.exception]
    ids = [la["id"] for la in _deck(at)["layers"]]
    assert ui.LAYER_OFFERS in ids and ui.LAYER_REACH in ids and ui.LAYER_GRID in ids
    md = _md(at)
    assert "Beschreibung der Karte." in md and "in Luftlinie" in md
    assert "Legende" in md and "Kita" in md
    assert at.dataframe, "Tabelle fehlt"
    assert "Angebote pflegen" not in " ".join(s.value for s in at.subheader)  # viewers do not import
    for kat in ("Jugendzentrum", "Spielplatz"):
        at.selectbox(key="ang_kategorie").set_value(kat).run()
        assert not at.exception, (kat, [e.value for e in at.exception])
        assert kat in _md(at)


def test_planned_offer_by_coordinates_changes_reach(run_page):
    at = run_page(PAGE, actor=STAFF)
    assert "Angebote pflegen (Bearbeitung)" in [s.value for s in at.subheader]
    at.number_input(key="ang_neu_lat").set_value(51.3397)
    at.number_input(key="ang_neu_lon").set_value(7.4460)
    at.button(key="FormSubmitter:ang_neu-Geplantes Angebot hinzufügen").click().run()
    assert not at.exception, [e.value for e in at.exception]
    md = _md(at)
    assert "1 geplante Angebote:" in md
    before, after = md.split("Stadtfläche in Reichweite ")[1].split(" → ")[:2]
    assert before != after.split(" %")[0] + " %"
    assert ui.LAYER_PLANNED in [la["id"] for la in _deck(at)["layers"]]
