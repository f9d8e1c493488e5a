"""Offers import: per-cell errors, all or nothing, preview, idempotence, closed offers, history, audit; CLI contracts."""

from __future__ import annotations

import json

import openpyxl
import pytest

from quartier import db
from quartier.cli import main
from quartier.offers import importer, store
from tests.unit.offers_city import ADMIN, E0, N0, build, wgs

HEAD = ["Id", "Name", "Kategorie", "Träger", "Adresse", "Plätze", "Beginn", "Ende", "Breitengrad", "Längengrad", "Sozialraum"]


def _xlsx(path, rows, head=HEAD, title_rows=0):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Angebote"
    for _ in range(title_rows):
        ws.append(["Angebote der Stadt (Beispiel)"])
    ws.append(head)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _good(x=500, y=500, oid="K1", places=40):
    lon, lat = wgs(x, y)
    return [oid, f"Kita {oid}", "kita", "Träger", "Weg 1", places, "01.08.2020", None, lat, lon, None]


@pytest.fixture
def city(tmp_path):
    path = tmp_path / "city.duckdb"
    con = db.connect(path)
    build(con)
    yield con, path
    con.close()


def test_errors_per_cell_and_nothing_written(city, tmp_path):
    con, _ = city
    lon, lat = wgs(5000, 500)
    rows = [_good(),
            ["K2", "Kita 2", "Kitta", None, None, 10, None, None, None, None, "A"],
            ["K3", "Kita 3", "Kita", None, None, -5, None, None, None, None, "A"],
            ["K4", "Kita 4", "Kita", None, None, 5, None, None, lat, lon, None],
            ["K5", "Kita 5", "Kita", None, None, 5, None, None, None, None, "Nordfeld"],
            ["K6", "Kita 6", "Kita", None, "Hauptstraße 1", 5, None, None, None, None, None]]
    rep = importer.analyse(con, importer.read_file(_xlsx(tmp_path / "a.xlsx", rows, title_rows=2)), "a.xlsx")
    by_rule = {e["rule"]: e for e in rep.errors}
    assert by_rule["kategorie"]["cell"] == "C5" and "Meinten Sie „Kita“?" in by_rule["kategorie"]["message"]
    assert by_rule["negativ"]["cell"] == "F6" and by_rule["negativ"]["column"] == "Plätze"
    assert by_rule["ausserhalb"]["sheet"] == "Angebote" and "außerhalb der Stadt" in by_rule["ausserhalb"]["message"]
    assert by_rule["sozialraum"]["cell"] == "K8"
    assert "nicht automatisch verortet" in by_rule["ort"]["message"]
    with pytest.raises(store.OfferError):
        importer.commit(con, rep, actor=ADMIN)
    assert store.offers(con, actor=ADMIN).empty


def test_preview_commit_idempotence_closed_history_audit(city, tmp_path):
    con, _ = city
    f1 = _xlsx(tmp_path / "a.xlsx", [_good(), _good(1500, 500, "K2"),
                                     ["K3", "Kita 3", "Kita", None, None, 5, None, None, None, None, "Ostfeld"]])
    rep = importer.analyse(con, importer.read_file(f1), "a.xlsx")
    assert rep.report("dry-run")["rows"] == {"new": 3, "changed": 0, "unchanged": 0, "closed": 0}
    assert any(w["rule"] == "nur_sozialraum" and "nicht in der Erreichbarkeit" in w["message"] for w in rep.warnings)
    assert store.offers(con, actor=ADMIN).empty  # preview writes nothing
    importer.commit(con, rep, actor=ADMIN)
    got = store.offers(con, actor=ADMIN).set_index("id")
    assert got["sozialraum_id"].to_dict() == {"K1": "A", "K2": "B", "K3": "B"} and got.loc["K3", "lon"] != got.loc["K3", "lon"]
    again = importer.analyse(con, importer.read_file(f1), "a.xlsx")
    assert again.report("x")["rows"] == {"new": 0, "changed": 0, "unchanged": 3, "closed": 0}
    assert importer.commit(con, again, actor=ADMIN)["status"] == "unchanged"
    f2 = _xlsx(tmp_path / "b.xlsx", [_good(places=60), _good(1500, 500, "K2")])
    rep2 = importer.analyse(con, importer.read_file(f2), "b.xlsx")
    assert rep2.report("x")["rows"] == {"new": 0, "changed": 1, "unchanged": 1, "closed": 1}
    importer.commit(con, rep2, actor=ADMIN)
    hist = store.history(con)
    assert list(hist["aktion"]) == ["neu", "neu", "neu", "geaendert", "geschlossen"]
    assert json.loads(hist.iloc[3]["vorher"])["plaetze"] == 40 and json.loads(hist.iloc[3]["nachher"])["plaetze"] == 60
    assert len(store.offers(con, actor=ADMIN)) == 2
    n_audit = con.execute("SELECT count(*) FROM audit_log WHERE aktion = 'angebote_import'").fetchone()[0]
    assert n_audit == 2


def test_utm_and_geojson_and_viewer_cannot_import(city, tmp_path):
    con, _ = city
    head = ["Name", "Art", "Rechtswert", "Hochwert"]
    f = _xlsx(tmp_path / "u.xlsx", [["Spielplatz Nord", "Spielplatz", E0 + 200, N0 + 300]], head=head)
    rep = importer.analyse(con, importer.read_file(f), "u.xlsx")
    assert not rep.errors and rep.records[0]["sozialraum_id"] == "A"
    gj = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"Name": "Kita Ost", "Kategorie": "Kita", "Plätze": 12},
         "geometry": {"type": "Point", "coordinates": list(wgs(1200, 200))}}]}
    p = tmp_path / "o.geojson"
    p.write_text(json.dumps(gj))
    rep = importer.analyse(con, importer.read_file(p), "o.geojson")
    assert not rep.errors and rep.records[0]["sozialraum_id"] == "B" and rep.records[0]["plaetze"] == 12
    from quartier import access

    with pytest.raises(access.PermissionDenied):
        importer.commit(con, rep, actor=access.PUBLIC)


def test_cli_import_contract_and_exit_codes(city, tmp_path, capsys):
    con, path = city
    con.close()
    bad = _xlsx(tmp_path / "bad.xlsx", [["K1", "Kita", "Kita", None, None, -1, None, None, None, None, "A"]])
    assert main(["angebote", "import", str(bad), "--json", "--db", str(path)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"file", "status", "rows", "errors", "warnings"}
    assert set(out["rows"]) == {"new", "changed", "unchanged", "closed"}
    assert set(out["errors"][0]) == {"sheet", "cell", "column", "value", "rule", "message"}
    good = _xlsx(tmp_path / "good.xlsx", [_good()])
    assert main(["angebote", "import", str(good), "--dry-run", "--json", "--db", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "dry-run"
    assert main(["angebote", "import", str(good), "--json", "--user", "planer", "--db", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]["new"] == 1
    assert main(["angebote", "import", str(tmp_path / "fehlt.xlsx"), "--json", "--db", str(path)]) == 2
    capsys.readouterr()
    out_x = tmp_path / "export.xlsx"
    assert main(["angebote", "export", "--out", str(out_x), "--db", str(path)]) == 0
    assert main(["angebote", "import", str(out_x), "--json", "--db", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == {"new": 0, "changed": 0, "unchanged": 1, "closed": 0}
    tpl = tmp_path / "vorlage.xlsx"
    assert main(["angebote", "template", "--out", str(tpl), "--db", str(path)]) == 0
    ws = openpyxl.load_workbook(tpl)["Angebote"]
    assert [c.value for c in ws[1]][:3] == ["Id", "Name", "Kategorie"]
    assert any("C2" in str(dv.sqref) for dv in ws.data_validations.dataValidation)


def test_cli_versorgung_both_forms(city, capsys, monkeypatch):
    from quartier.offers import locate

    # the command-line contract, not the solver's scale (solve_mclp: tests/unit/test_offers_supply.py): a grid of
    # about 40 candidate sites instead of 300 (spopt builds its model densely: demand points x candidates)
    monkeypatch.setattr(locate, "MAX_CANDIDATES", 40)
    con, path = city
    importer.commit(con, importer.analyse(con, _xlsx_bytes(), "x.csv"), actor=ADMIN)
    con.close()
    lon, lat = wgs(1500, 500)
    assert main(["versorgung", "--kategorie", "Kita", "--jahr", "2024", "--neu", f"{lon},{lat},10", "--json",
                 "--db", str(path)]) == 0
    j = json.loads(capsys.readouterr().out)
    assert list(j) == ["kategorie", "jahr", "radius_m", "distanz", "zielgruppe", "stadt", "sozialraeume"]
    assert j["distanz"] == "luftlinie" and j["zielgruppe"] == "zg" and j["stadt"]["plaetze"] == 50
    b = next(r for r in j["sozialraeume"] if r["id"] == "B")
    assert 0 < b["erreichbar_anteil"] < 1
    assert main(["versorgung", "vorschlag", "--kategorie", "Kita", "--anzahl", "1", "--radius", "300", "--json",
                 "--db", str(path)]) == 0
    s = json.loads(capsys.readouterr().out)
    assert list(s) == ["vorschlaege", "vorher", "nachher"]
    assert set(s["vorschlaege"][0]) == {"lon", "lat", "sozialraum", "neu_erreicht"}
    assert main(["versorgung", "--kategorie", "Kitta", "--json", "--db", str(path)]) == 2
    assert "Meinten Sie" in capsys.readouterr().err
    assert main(["versorgung", "--kategorie", "Kita", "--neu", "x,y", "--db", str(path)]) == 2


def _xlsx_bytes() -> bytes:
    lon, lat = wgs(500, 500)
    return f"Name;Kategorie;Plätze;Breitengrad;Längengrad\nKita A;Kita;40;{lat};{lon}\n".encode()
