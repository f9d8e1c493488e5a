"""CLI: ``empfehlungen export`` / ``empfehlungen import`` with JSON, dry run and exit codes 0/1/2."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from quartier import db
from quartier.access import SYSTEM
from quartier.actions import store


def _set(path, rec_id, label, value):
    wb = load_workbook(path)
    ws = wb["Empfehlungen"]
    header = [c.value for c in ws[1]]
    for row in range(2, ws.max_row + 1):
        if ws.cell(row=row, column=1).value == rec_id:
            cell = ws.cell(row=row, column=header.index(label) + 1)
            cell.value = value
            wb.save(path)
            return cell.coordinate
    raise KeyError(rec_id)


def test_export_import_round_trip_and_status_change(cli, demo_copy, tmp_path):
    out = tmp_path / "katalog.xlsx"
    code, stdout, err = cli("empfehlungen", "export", "--db", str(demo_copy), "--out", str(out))
    assert code == 0 and out.exists() and "30 Handlungsempfehlungen" in err

    code, stdout, _ = cli("empfehlungen", "import", str(out), "--db", str(demo_copy), "--json")
    res = json.loads(stdout)
    assert code == 0 and res["status"] == "imported"
    assert res["counts"] == {"new": 0, "changed": 0, "unchanged": 30} and res["errors"] == []

    cell = _set(out, "HE-25", "Status", "in Umsetzung")
    code, stdout, _ = cli("empfehlungen", "import", str(out), "--db", str(demo_copy), "--json")
    res = json.loads(stdout)
    assert code == 1 and res["status"] == "rejected"
    assert res["errors"][0]["sheet"] == "Empfehlungen" and res["errors"][0]["cell"] == cell
    assert res["errors"][0]["rule"] == "begruendung_fehlt"

    _set(out, "HE-25", "Begründung", "Stellen besetzt.")
    code, stdout, _ = cli("empfehlungen", "import", str(out), "--db", str(demo_copy), "--json", "--dry-run")
    res = json.loads(stdout)
    assert code == 0 and res["status"] == "dry-run" and res["counts"]["changed"] == 1
    assert res["preview"][0]["aenderungen"] == [{"feld": "status", "label": "Status", "alt": "in Planung",
                                                 "neu": "in Umsetzung"}]
    code, stdout, err = cli("empfehlungen", "import", str(out), "--db", str(demo_copy), "--user", "k.test")
    assert code == 0 and stdout == "" and "übernommen" in err
    con = db.connect(demo_copy)
    try:
        assert store.get(con, "HE-25", actor=SYSTEM)["status"] == "in Umsetzung"
        h = store.history(con, "HE-25", actor=SYSTEM).iloc[-1]
        assert (h["feld"], h["benutzer"], h["begruendung"]) == ("status", "k.test", "Stellen besetzt.")
        assert con.cursor().execute(
            "SELECT count(*) FROM audit_log WHERE aktion = 'empfehlungen_import' AND benutzer = 'k.test'").fetchone()[0] == 1
    finally:
        con.close()


def test_unreadable_input_exits_2(cli, demo_copy, tmp_path):
    bad = tmp_path / "kaputt.xlsx"
    bad.write_bytes(b"not a workbook")
    code, stdout, err = cli("empfehlungen", "import", str(bad), "--db", str(demo_copy), "--json")
    assert code == 2 and json.loads(stdout)["status"] == "rejected" and "kaputt.xlsx" in err
    code, _, err = cli("empfehlungen", "import", str(tmp_path / "fehlt.xlsx"), "--db", str(demo_copy))
    assert code == 2 and "nicht gefunden" in err
    code, _, err = cli("empfehlungen", "export", "--db", str(demo_copy), "--out", str(tmp_path / "x.pdf"))
    assert code == 2 and ".xlsx" in err
