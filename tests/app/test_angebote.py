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
    layers = _deck(at)["layers"]
    ids = [la["id"] for la in layers]
    # literal strings, not accessor expressions ("@@=pixels" drew every point over the whole map: a dark map)
    assert {la.get("radiusUnits") for la in layers if "radiusUnits" in la} == {"pixels"}
    assert {la.get("characterSet") for la in layers if "characterSet" in la} == {"auto"}
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


def _first(app_db):
    from quartier import db
    from quartier.offers import catalogue

    con = db.connect(app_db)
    kat = catalogue.categories(con)["name"].iloc[0]
    return con, kat


def _frame_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_districts_and_offers_with_their_recommendations(run_page, app_db):
    from quartier.actions import store as actions

    con, kat = _first(app_db)
    oid = con.execute("SELECT id FROM angebot WHERE kategorie = ? AND status = 'aktiv' ORDER BY id LIMIT 1", [kat]).fetchone()[0]
    rid = con.execute("SELECT id FROM empfehlung WHERE oeffentlich AND NOT ausgeschieden ORDER BY id LIMIT 1").fetchone()[0]
    actions.update(con, STAFF, rid, {"angebote": [oid]})
    con.close()
    at = run_page(PAGE, actor=GUEST)
    assert not at.exception, [e.value for e in at.exception]
    assert "Versorgung je Stadtbezirk" in [s.value for s in at.subheader]
    districts = _frame_with(at, "Hinweis")
    assert len(districts) >= 2 and "Stadtbezirk" in districts.columns
    offers = _frame_with(at, "Handlungsempfehlungen").set_index("Id")
    assert rid in offers.loc[oid, "Handlungsempfehlungen"]
    assert "Einzelnes Angebot bearbeiten" not in [s.value for s in at.subheader]  # viewers do not edit


def test_staff_adds_one_offer_and_reloads_a_saved_scenario(run_page, app_db):
    from quartier.offers import store

    con, kat = _first(app_db)
    lon, lat = con.execute("SELECT centroid_lon, centroid_lat FROM sozialraum ORDER BY id LIMIT 1").fetchone()
    store.save_scenario(con, "Zwei neue", kat, [{"lon": lon, "lat": lat, "plaetze": 20, "name": "geplant 1"},
                                                {"lon": lon + 0.01, "lat": lat, "plaetze": None, "name": "geplant 2"}],
                        actor=STAFF)
    con.close()
    at = run_page(PAGE, actor=STAFF)
    assert "Einzelnes Angebot bearbeiten" in [s.value for s in at.subheader]
    at.text_input(key="ang_edit_neu_name").set_value("Testangebot Einzeln")
    at.number_input(key="ang_edit_neu_plaetze").set_value(12)
    at.number_input(key="ang_edit_neu_lat").set_value(float(lat))
    at.number_input(key="ang_edit_neu_lon").set_value(float(lon))
    at.button(key="FormSubmitter:ang_edit_neu_form-Angebot speichern").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Testangebot" in s.value or "angelegt" in s.value for s in at.success), [s.value for s in at.success]
    from quartier import db

    con = db.connect(app_db)
    aid, status = con.execute("SELECT id, status FROM angebot WHERE name = 'Testangebot Einzeln'").fetchone()
    assert status == "aktiv"
    assert con.execute("SELECT aktion, benutzer FROM angebot_verlauf WHERE angebot_id = ?", [aid]).fetchall() == \
        [("neu", "test-admin")]
    con.close()
    at.selectbox(key="ang_szenario_wahl").set_value("Zwei neue")
    at.button(key="ang_szenario_laden").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "2 geplante Angebote:" in _md(at)
    assert any("geladen" in s.value for s in at.success)
    at.button(key="ang_szenario_loeschen").click().run()
    assert "noch kein Szenario gespeichert" in " ".join(c.value for c in at.caption)
