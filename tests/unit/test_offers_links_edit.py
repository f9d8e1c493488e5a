"""Issue 17 rest: offers linked to Handlungsempfehlungen, Stadtbezirk figures with the coverage rules, single-offer
editing, saved scenarios, the suggestion along the network and from a city site list (CLI in-process)."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pytest

from quartier import access, db
from quartier.access import PermissionDenied
from quartier.actions import excel, model
from quartier.actions import store as actions
from quartier.cli import main
from quartier.offers import edit, locate, store, supply, totals
from tests.unit.offers_city import ADMIN, E0, N0, add_offer, build, wgs

VIEWER = access.PUBLIC


def _fill_city(con):
    build(con)


@pytest.fixture
def city(filled_con, tmp_path):
    """The two-area offers city; its file path for the command line."""
    return filled_con(_fill_city), tmp_path / "q.duckdb"


def _row(res, sid):
    return res.table.set_index("id").loc[sid]


# ------------------------------------------------------------------------------------------------
# Links offer <-> recommendation


def test_recommendation_names_its_offers_with_history_visibility_and_file_round_trip(city, tmp_path):
    con, _ = city
    add_offer(con, "K1", 500, 500, plaetze=40)
    add_offer(con, "K2", 1500, 500, plaetze=20)
    actions.create(con, ADMIN, "E1", {"titel": "Kita ausbauen", "handlungsfeld": "Bildung", "angebote": ["K1"]})
    actions.create(con, ADMIN, "E2", {"titel": "Intern", "handlungsfeld": "Bildung", "angebote": ["K1", "K2"],
                                      "oeffentlich": False})
    assert con.execute("SELECT count(*) FROM empfehlung_angebot").fetchone()[0] == 3
    assert list(actions.of_offer(con, "K1", actor=ADMIN)["id"]) == ["E1", "E2"]
    assert list(actions.of_offer(con, "K1", actor=VIEWER)["id"]) == ["E1"]          # internal: staff only
    assert actions.offer_links(con, actor=VIEWER) == {"K1": ["E1"]}
    actions.update(con, ADMIN, "E1", {"angebote": ["K1", "K2"]})
    hist = actions.history(con, "E1", actor=ADMIN)
    assert hist.iloc[-1]["feld"] == "angebote" and hist.iloc[-1]["neu"] == "K1|K2"
    with pytest.raises(model.CatalogueError, match="Angebot X9 unbekannt"):
        actions.update(con, ADMIN, "E1", {"angebote": ["X9"]})
    # export keeps the links; re-importing the export changes nothing; an unknown id is a cell error
    out = tmp_path / "empfehlungen.xlsx"
    excel.export_file(con, out)
    ws = openpyxl.load_workbook(out)["Empfehlungen"]
    head = [c.value for c in ws[1]]
    col = head.index("Angebote")
    assert [r[col].value for r in ws.iter_rows(min_row=2)] == ["K1|K2", "K1|K2"]
    res = excel.import_file(con, ADMIN, out)
    assert res.ok and res.changed == 0 and res.new == 0
    ws.cell(row=2, column=col + 1, value="K1|X9")
    bad = tmp_path / "bad.xlsx"
    ws.parent.save(bad)
    res = excel.import_file(con, ADMIN, bad, dry_run=True)
    assert [e["column"] for e in res.errors] == ["Angebote"] and "X9" in res.errors[0]["message"]


# ------------------------------------------------------------------------------------------------
# Stadtbezirk figures and coverage


def _two_districts(con):
    with db.transaction(con) as cur:
        cur.execute("INSERT INTO stadtbezirk (id, nr, name) VALUES ('b2', 2, 'Bezirk 2')")
        cur.execute("UPDATE sozialraum SET bezirk_id = 'b2' WHERE id = 'B'")
    store._CACHE.clear()


def test_district_figures_are_ratios_of_sums_per_district(city):
    con, _ = city
    add_offer(con, "1", 500, 500, plaetze=50)
    add_offer(con, "2", 600, 500, plaetze=30)
    add_offer(con, "3", 1500, 500, plaetze=10)
    res = supply.supply(con, "Kita", 2024, actor=ADMIN)
    (b1,) = res.bezirke.to_dict("records")  # both areas in Bezirk 1
    assert (b1["bezirk"], b1["sozialraeume"], b1["angebote"], b1["plaetze"], b1["zielgruppe"]) == ("Bezirk 1", 2, 3, 90, 300)
    assert b1["plaetze_je_100"] == pytest.approx(30.0) and b1["hinweis"] == ""
    _two_districts(con)
    res = supply.supply(con, "Kita", 2024, actor=ADMIN)
    b = res.bezirke.set_index("bezirk")
    assert b.loc["Bezirk 1", "plaetze_je_100"] == pytest.approx(80 / 200 * 100)
    assert b.loc["Bezirk 2", "plaetze_je_100"] == pytest.approx(10 / 100 * 100)
    assert res.stadt["plaetze_je_100"] == pytest.approx(90 / 300 * 100)   # not the mean of 40 and 10


def test_suppressed_is_neither_zero_nor_missing_and_incomplete_delivery_gives_no_total(city):
    con, _ = city
    _two_districts(con)
    add_offer(con, "1", 500, 500, plaetze=50)
    with db.transaction(con) as cur:
        cur.execute("UPDATE messwert SET wert = NULL, gesperrt = TRUE WHERE sozialraum_id = 'B' AND jahr = 2024")
    for actor in (ADMIN, VIEWER):
        res = supply.supply(con, "Kita", 2024, actor=actor)
        assert _row(res, "B")["zielgruppe_status"] == totals.SUPPRESSED and np.isnan(_row(res, "B")["zielgruppe"])
        assert res.stadt["zielgruppe"] is None and res.stadt["plaetze_je_100"] is None
        assert "gesperrt" in res.stadt["hinweis"] and "nicht 0" in res.stadt["hinweis"]
        b = res.bezirke.set_index("bezirk")
        assert b.loc["Bezirk 1", "zielgruppe"] == 200 and b.loc["Bezirk 1", "plaetze_je_100"] == pytest.approx(25.0)
        assert np.isnan(b.loc["Bezirk 2", "zielgruppe"]) and "gesperrt" in b.loc["Bezirk 2", "hinweis"]
    with db.transaction(con) as cur:  # B not delivered in 2024 (it was in 2023): coverage incomplete
        cur.execute("DELETE FROM messwert WHERE sozialraum_id = 'B' AND jahr = 2024")
    res = supply.supply(con, "Kita", 2024, actor=VIEWER)
    assert _row(res, "B")["zielgruppe_status"] == totals.MISSING
    assert res.stadt["zielgruppe"] is None and "unvollständig: 1 von 2 Sozialräumen geliefert" in res.stadt["hinweis"]
    b = res.bezirke.set_index("bezirk")
    assert b.loc["Bezirk 1", "zielgruppe"] == 200
    assert "unvollständig: 0 von 1" in b.loc["Bezirk 2", "hinweis"]
    assert res.to_json()["stadt"]["zielgruppe"] is None


def test_unknown_places_are_not_zero(city):
    con, _ = city
    add_offer(con, "1", 500, 500, plaetze=None)
    res = supply.supply(con, "Kita", 2024, actor=ADMIN)
    assert np.isnan(_row(res, "A")["plaetze"]) and _row(res, "B")["plaetze"] == 0
    assert res.stadt["plaetze"] is None and res.stadt["plaetze_je_100"] is None
    assert "Plätze nicht für jedes Angebot bekannt" in res.stadt["hinweis"]


# ------------------------------------------------------------------------------------------------
# Single offers


def _audit(con):
    return [r[0] for r in con.execute("SELECT aktion FROM audit_log ORDER BY 1").fetchall()]


def test_single_offer_add_change_close_with_history_audit_and_roles(city):
    con, _ = city
    lon, lat = wgs(500, 500)
    vals = {"id": "N1", "name": "Kita Neu", "kategorie": "kita", "plaetze": 30, "lat": lat, "lon": lon}
    with pytest.raises(PermissionDenied):
        edit.save(con, vals, actor=VIEWER)
    out = edit.save(con, vals, actor=ADMIN)
    assert out["aktion"] == "neu" and out["id"] == "N1"
    row = store.offers(con, actor=ADMIN).set_index("id").loc["N1"]
    assert (row["kategorie"], row["plaetze"], row["sozialraum_id"]) == ("Kita", 30, "A")
    assert edit.save(con, vals, actor=ADMIN, angebot_id="N1")["aktion"] == "unveraendert"
    assert edit.save(con, {**vals, "plaetze": 45}, actor=ADMIN, angebot_id="N1")["aktion"] == "geaendert"
    with pytest.raises(edit.OfferError, match="gibt es schon"):
        edit.save(con, vals, actor=ADMIN)
    far = wgs(5000, 500)
    with pytest.raises(edit.OfferError, match="außerhalb der Stadt"):
        edit.save(con, {**vals, "lon": far[0], "lat": far[1]}, actor=ADMIN, angebot_id="N1")
    with pytest.raises(edit.OfferError, match="Meinten Sie „Kita“"):
        edit.save(con, {**vals, "kategorie": "Kitta"}, actor=ADMIN, angebot_id="N1")
    with pytest.raises(edit.OfferError, match="negativ"):
        edit.save(con, {**vals, "plaetze": -1}, actor=ADMIN, angebot_id="N1")
    assert _row(supply.supply(con, "Kita", 2024, actor=ADMIN), "A")["plaetze"] == 45
    with pytest.raises(PermissionDenied):
        edit.close(con, "N1", actor=VIEWER)
    from datetime import date

    edit.close(con, "N1", actor=ADMIN, ende=date(2024, 6, 30))
    with pytest.raises(edit.OfferError, match="schon geschlossen"):
        edit.close(con, "N1", actor=ADMIN)
    assert _row(supply.supply(con, "Kita", 2025, actor=ADMIN), "A")["angebote"] == 0
    assert _row(supply.supply(con, "Kita", 2024, actor=ADMIN), "A")["angebote"] == 1  # open until 30.06.2024
    hist = store.history(con, "N1")
    assert list(hist["aktion"]) == ["neu", "geaendert", "geschlossen"]
    assert set(hist["datei"]) == {edit.SOURCE} and set(hist["benutzer"]) == {"test"}
    assert {"angebot_neu", "angebot_geaendert", "angebot_schliessen"} <= set(_audit(con))


# ------------------------------------------------------------------------------------------------
# Scenarios


def test_saved_scenarios_list_load_delete(city):
    con, _ = city
    p = [{"lon": 7.1, "lat": 51.2, "plaetze": 10, "name": "geplant 1"}]
    store.save_scenario(con, "Plan B", "Kita", p, actor=ADMIN)
    store.save_scenario(con, "Spiel", "Spielplatz", p, actor=ADMIN)
    store.save_scenario(con, "Spiel", "Spielplatz", p, actor=ADMIN)  # same name again: replaced
    assert [s["name"] for s in store.scenarios(con, "Kita")] == ["Plan B"]
    assert store.load_scenario(con, "Plan B")["angebote"] == p
    with pytest.raises(PermissionDenied):
        store.delete_scenario(con, "Plan B", actor=VIEWER)
    store.delete_scenario(con, "Plan B", actor=ADMIN)
    assert [s["name"] for s in store.scenarios(con)] == ["Spiel"]
    with pytest.raises(store.OfferError, match="gibt es nicht"):
        store.load_scenario(con, "Plan B")
    assert "angebot_szenario_loeschen" in _audit(con)


# ------------------------------------------------------------------------------------------------
# Suggestion along the network, from a site list


def _dense_line(x0, x1, y, step=100):
    return {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [
        wgs(x, y) for x in np.arange(x0, x1 + 1, step)]}}


def test_network_cover_matrix_has_the_known_distances(city, tmp_path):
    con, _ = city
    path = tmp_path / "netz.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [_dense_line(1000, 2000, 500)]}))
    store.load_network(con, path, actor=ADMIN)
    g = supply.graph(con)
    dx = np.array([E0 + 1100, E0 + 1400, E0 + 1500, E0 + 1100]) + 0.0
    dy = np.array([N0 + 500, N0 + 500, N0 + 500, N0 + 700]) + 0.0
    cover = locate.cover_network(g, dx, dy, np.array([E0 + 1100.0]), np.array([N0 + 500.0]), 300)
    assert cover[:, 0].tolist() == [True, True, False, True]      # 0, 300, 400 m; 200 m off the path
    cover = locate.cover_network(g, dx, dy, np.array([E0 + 1100.0]), np.array([N0 + 500.0]), 150)
    assert cover[:, 0].tolist() == [True, False, False, False]


def _sites(path, pts, head=("Name", "Breitengrad", "Längengrad")):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(head))
    for i, (x, y) in enumerate(pts):
        lon, lat = wgs(x, y)
        ws.append([f"Standort {i + 1}", lat, lon])
    wb.save(path)
    return path


def test_cli_suggestion_from_site_list_straight_and_along_the_network(city, tmp_path, capsys):
    con, path = city
    net = tmp_path / "netz.geojson"
    net.write_text(json.dumps({"type": "FeatureCollection", "features": [_dense_line(1000, 2000, 500)]}))
    con.close()
    sites = _sites(tmp_path / "standorte.xlsx", [(1500, 900), (500, 500)])
    args = ["versorgung", "vorschlag", "--kategorie", "Kita", "--anzahl", "1", "--radius", "300", "--jahr", "2024",
            "--standorte", str(sites), "--json", "--db", str(path)]
    assert main(args) == 0
    s = json.loads(capsys.readouterr().out)
    assert list(s) == ["vorschlaege", "vorher", "nachher"]
    (v,) = s["vorschlaege"]   # a site of the list: A's centre (full circle) beats B's north edge (clipped)
    assert v["sozialraum"] == "A" and (v["lon"], v["lat"]) == pytest.approx(wgs(500, 500), abs=1e-5)
    assert main(["angebote", "netz", "laden", str(net), "--db", str(path)]) == 0
    capsys.readouterr()
    assert main(args) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["vorschlaege"] == []  # along the network: neither site is within 300 m of a path
    sites2 = _sites(tmp_path / "standorte2.xlsx", [(1500, 900), (1500, 500), (500, 500)])
    assert main([*args[:-4], str(sites2), "--json", "--db", str(path)]) == 0
    (v,) = json.loads(capsys.readouterr().out)["vorschlaege"]
    assert v["sozialraum"] == "B" and v["neu_erreicht"] > 0
    assert main([*args[:-3], "--db", str(path)]) == 0
    assert "entlang des Fußwegenetzes" in capsys.readouterr().err
    outside = _sites(tmp_path / "aussen.xlsx", [(5000, 500)])
    assert main([*args[:-4], str(outside), "--json", "--db", str(path)]) == 1
    assert "außerhalb der Stadt" in capsys.readouterr().err
    (tmp_path / "leer.csv").write_text("Name;Farbe\nx;y\n")
    assert main([*args[:-4], str(tmp_path / "leer.csv"), "--json", "--db", str(path)]) == 2
