"""The map page renders for every indicator of the demo, shows legend, text alternative and corridor."""

from __future__ import annotations

import json

import pytest

from quartier import db
from quartier.access import ADMIN, VIEWER, Actor
from quartier.areas import classes, layers
from quartier.ui.session import ACTOR_KEY
from quartier.values import indicators

PAGE = "views/karte.py"
ADMIN_SESSION = {ACTOR_KEY: Actor("test-admin", ADMIN, raw_data=True)}
VIEWER_SESSION = {ACTOR_KEY: Actor("test-gast", VIEWER)}


def _deck(at):
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def _md(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_every_indicator_renders(run_page, demo_db):
    con = db.connect(demo_db, read_only=True)
    ids = list(indicators.catalogue(con)["id"])
    con.close()
    at = run_page(PAGE, session=ADMIN_SESSION)
    assert not at.exception, [e.value for e in at.exception]
    for iid in ids:
        at.sidebar.selectbox(key="sel_indikator").set_value(iid).run()
        assert not at.exception, (iid, [e.value for e in at.exception])
        spec = _deck(at)
        layer_ids = [la["id"] for la in spec["layers"]]
        assert layers.LAYER_AREAS in layer_ids and layers.LAYER_AXIS in layer_ids and layers.LAYER_BEZIRKE in layer_ids
        feats = spec["layers"][0]["data"]["features"]
        assert len(feats) == 23
        md = _md(at)
        assert "keine Daten" in md and "gesperrt" in md  # legend entries
        assert "Die höchsten Werte haben" in md  # text alternative
        assert "Korridor um die B 7" in md or "kein Sozialraum" in md
        assert at.dataframe, "Tabelle der Kartenwerte fehlt"


def test_default_view_content(run_page):
    at = run_page(PAGE, session=ADMIN_SESSION)
    md = _md(at)
    # legend with German ranges and unit, darker = more need
    assert " bis unter " in md and "%" in md and "Dunkler = mehr Bedarf" in md
    # the corridor sentence of the core, with the default 500 m and 25 %
    assert "Im 500-m-Korridor um die B 7 liegt" in md and "übrigen Stadtgebiet" in md
    labels = [m.label for m in at.metric]
    assert any(lbl.startswith("Im Korridor") for lbl in labels)
    table = at.dataframe[-1].value
    assert {"im_korridor", "abstand_achse_m", "wert", "rang"} <= set(table.columns)
    assert len(table) == 23
    spec = _deck(at)
    assert spec.get("mapStyle", "__MAP_STYLE__") == "__MAP_STYLE__"  # no basemap by default
    assert layers.LAYER_CORRIDOR in [la["id"] for la in spec["layers"]]
    assert [b.proto.label for b in at.get("download_button")] == [
        "Korridor-Ergebnis als Excel (.xlsx)", "Tabelle als Excel (.xlsx)", "Tabelle als CSV"]


def test_width_slider_changes_corridor(run_page):
    at = run_page(PAGE, session=ADMIN_SESSION)
    before = at.dataframe[-1].value["im_korridor"].eq("ja").sum()
    at.slider(key="karte_breite").set_value(2000).run()
    assert not at.exception
    after = at.dataframe[-1].value["im_korridor"].eq("ja").sum()
    assert after > before
    assert "Im 2.000-m-Korridor" in _md(at)


def test_selecting_a_sozialraum_shows_key_figures(run_page):
    at = run_page(PAGE, session=ADMIN_SESSION)
    at.selectbox(key="karte_sr").set_value("M04").run()
    assert not at.exception
    md = _md(at)
    assert "Wehringhausen" in md and "Rang:" in md and "Zähler / Nenner:" in md and "Korridor:" in md
    spec = _deck(at)
    assert layers.LAYER_SELECTED in [la["id"] for la in spec["layers"]]


def test_query_param_selects_and_district_zooms(run_page):
    at = run_page(PAGE, query={"sr": "H01", "bezirk": "hohenlimburg"}, session=ADMIN_SESSION)
    assert not at.exception
    assert "Hohenlimburg-Zentrum/Elsey" in _md(at)
    zoomed = _deck(at)["initialViewState"]["zoom"]
    at.sidebar.selectbox(key="karte_bezirk").set_value("__stadt__").run()
    assert _deck(at)["initialViewState"]["zoom"] < zoomed


@pytest.mark.parametrize("method", ["equal", "fixed"])
def test_classification_choice(run_page, method):
    at = run_page(PAGE, session=ADMIN_SESSION)
    at.sidebar.selectbox(key="karte_methode").set_value(method).run()
    assert not at.exception
    md = _md(at)
    if method == "fixed":
        assert "0,0 bis unter 20,0 %" in md  # indicator range 0..100 in 5 classes


def test_viewer_sees_suppressed_values_marked(run_page):
    at = run_page(PAGE, session={**VIEWER_SESSION, "sel_indikator": "ohne_abschluss"})
    assert not at.exception, [e.value for e in at.exception]
    md = _md(at)
    table = at.dataframe[-1].value
    n_hidden = int((table["gesperrt"] == "ja").sum())
    assert n_hidden > 0  # small numbers in the demo's school-leaver figures
    assert table.loc[table["gesperrt"] == "ja", "wert"].isna().all()
    assert table.loc[table["gesperrt"] == "ja", "zaehler"].isna().all()
    legend = next(m.value for m in at.markdown if "Legende" in m.value)
    assert "gesperrt (•, kleine Fallzahl) <span" in legend and f"({n_hidden} Gebiete)" in legend
    assert "gesperrte" in md  # the corridor sentence says what was left out
    feats = _deck(at)["layers"][0]["data"]["features"]
    grey = [f for f in feats if f["properties"]["fill"] == classes.SUPPRESSED_COLOR]
    assert len(grey) == n_hidden and all(f["properties"]["wert_text"] == "•" for f in grey)


def test_admin_sets_fixed_breaks_and_basemap(run_page):
    at = run_page(PAGE, session=ADMIN_SESSION)
    next(t for t in at.text_input if t.label.startswith("Feste Klassengrenzen")).set_value("15; 30")
    next(t for t in at.text_input if t.label.startswith("Hintergrundkarte")).set_value(layers.CARTO_LIGHT)
    next(b for b in at.button if b.label == "Speichern").click().run()
    assert not at.exception, [e.value for e in at.exception]
    at.sidebar.selectbox(key="karte_methode").set_value("fixed").run()
    legend = next(m.value for m in at.markdown if "Legende" in m.value)
    assert "15,0 bis unter 30,0 %" in legend
    # the basemap is offered now, but stays off until switched on
    assert _deck(at).get("mapStyle", "__MAP_STYLE__") == "__MAP_STYLE__"
    at.sidebar.toggle(key="karte_basiskarte").set_value(True).run()
    assert _deck(at)["mapStyle"] == layers.CARTO_LIGHT


def test_viewer_has_no_settings(run_page):
    at = run_page(PAGE, session=VIEWER_SESSION)
    assert not any(t.label.startswith("Feste Klassengrenzen") for t in at.text_input)


def test_large_city_map_opens_on_one_district(run_page, monkeypatch):
    """With thousands of Sozialräume the map and its table start on one Stadtbezirk and send only its areas;
    the downloads keep all of them, and "Gesamtstadt" draws everything (the demo stands in, with a lowered
    threshold)."""
    from quartier.ui import karte as ui

    monkeypatch.setattr(ui, "DISTRICT_MAP_FROM", 10)
    at = run_page(PAGE, session=ADMIN_SESSION)
    assert not at.exception, [e.value for e in at.exception]
    bezirk = at.sidebar.selectbox(key="karte_bezirk").value
    assert bezirk != "__stadt__"
    assert any("je Stadtbezirk nur dessen" in c.value for c in at.sidebar.caption)

    def area_ids(spec):
        layer = next(la for la in spec["layers"] if la["id"] == layers.LAYER_AREAS)
        return {f["properties"]["id"] for f in layer["data"]["features"]}

    shown = area_ids(_deck(at))
    assert 0 < len(shown) < 23
    assert set(at.dataframe[-1].value["sozialraum_id"]) == shown  # the table: the district's rows ...
    assert any("die Downloads enthalten alle 23" in c.value for c in at.caption)  # ... the downloads: all
    at.sidebar.selectbox(key="karte_bezirk").set_value("__stadt__").run()
    assert len(area_ids(_deck(at))) == 23 and len(at.dataframe[-1].value) == 23
