"""``python -m quartier import|deliveries|template``: JSON keys, statuses and exit codes."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from quartier import db, ingest
from tests.unit.ingest_files import long_rows, xlsx

SGB = "Minderjährige in SGB-II-Bedarfsgemeinschaften"
KEYS = {"file", "status", "lieferung_id", "rows", "errors", "warnings"}


def lines(stdout: str) -> list[dict]:
    return [json.loads(x) for x in stdout.splitlines() if x.strip()]


def test_import_json_statuses_and_exit_codes(cli, demo_copy, tmp_path):
    good = xlsx(tmp_path / "gut.xlsx", {"D": long_rows([(2026, "Zentrum/Remberg", SGB, 10, 100, 10.0)])})
    bad = xlsx(tmp_path / "schlecht.xlsx", {"D": long_rows([(2026, "Nirgendwo", SGB, 10, 100, 10.0)])})
    # dry run: nothing written, exit 0
    r = cli("import", good, "--dry-run", "--json", "--db", demo_copy)
    assert r.returncode == 0, r.stderr
    (out,) = lines(r.stdout)
    assert set(out) == KEYS and out["status"] == "dry-run" and out["lieferung_id"] is None
    assert out["rows"] == {"new": 1, "changed": 0, "unchanged": 0, "suppressed": 0}
    assert "sozialraeume_fehlen" in {w["rule"] for w in out["warnings"]}  # warnings reported, not blocking
    # --strict turns the warning into a rejection
    r = cli("import", good, "--strict", "--json", "--db", demo_copy)
    assert r.returncode == 1 and lines(r.stdout)[0]["status"] == "rejected"
    # good + bad + unreadable in one call: one JSON object per file, worst exit code wins
    r = cli("import", good, bad, tmp_path / "fehlt.xlsx", "--json", "--user", "anna", "--db", demo_copy)
    assert r.returncode == 2, r.stderr
    a, b, c = lines(r.stdout)
    assert a["status"] == "imported" and isinstance(a["lieferung_id"], int) and set(a) == set(b) == set(c) == KEYS
    assert b["status"] == "rejected" and b["errors"][0]["cell"] == "B8" and "unbekannt" in b["errors"][0]["message"]
    assert set(b["errors"][0]) == {"sheet", "cell", "column", "value", "rule", "message"}
    assert c["status"] == "rejected" and "nicht gefunden" in c["errors"][0]["message"]
    assert "Traceback" not in r.stderr
    # bad alone: exit 1
    assert cli("import", bad, "--json", "--db", demo_copy).returncode == 1
    # the same file again: duplicate, exit 0, nothing new
    r = cli("import", good, "--json", "--db", demo_copy)
    d = lines(r.stdout)[0]
    assert r.returncode == 0 and d["status"] == "duplicate" and d["lieferung_id"] == a["lieferung_id"]
    assert d["warnings"][-1]["rule"] == "duplikat" and "importiert (Lieferung #" in d["warnings"][-1]["message"]
    con = db.connect(demo_copy, read_only=True)
    who = con.execute("SELECT importiert_von FROM lieferung WHERE id=?", [a["lieferung_id"]]).fetchone()[0]
    n = con.execute("SELECT count(*) FROM lieferung WHERE dateiname='gut.xlsx'").fetchone()[0]
    con.close()
    assert who == "anna" and n == 1
    # withdraw via CLI; list shows it withdrawn
    r = cli("deliveries", "withdraw", a["lieferung_id"], "--json", "--db", demo_copy)
    assert r.returncode == 0 and json.loads(r.stdout)["werte_entfernt"] == 1
    r = cli("deliveries", "withdraw", a["lieferung_id"], "--db", demo_copy)
    assert r.returncode == 1 and "bereits zurückgezogen" in r.stderr
    r = cli("deliveries", "list", "--json", "--db", demo_copy)
    rows = {x["id"]: x for x in json.loads(r.stdout)}
    assert rows[a["lieferung_id"]]["status"] == "zurueckgezogen"
    # usage error
    assert cli("import", "--db", demo_copy).returncode == 2


def test_export_values_reads_back_through_import(cli, demo_copy, tmp_path):
    out = tmp_path / "werte.csv"
    assert cli("export", "values", "--out", out, "--db", demo_copy).returncode == 0
    r = cli("import", out, "--dry-run", "--json", "--db", demo_copy)
    res = lines(r.stdout)[0]
    assert r.returncode == 0, res["errors"][:3]
    assert res["rows"]["new"] == 0 and res["rows"]["changed"] == 0 and res["rows"]["unchanged"] == 3795


def test_template_has_instructions_dropdowns_and_round_trips(cli, demo_copy, tmp_path):
    out = tmp_path / "vorlage.xlsx"
    r = cli("template", "--out", out, "--db", demo_copy)
    assert r.returncode == 0, r.stderr
    wb = load_workbook(out)
    assert wb.sheetnames[:2] == ["Anleitung", "Daten"] and wb["Listen"].sheet_state == "hidden"
    ws = wb["Daten"]
    assert [c.value for c in ws[1]] == ["Jahr", "Sozialraum-Nr.", "Sozialraum", "Kennzahl", "Zähler", "Nenner", "Wert"]
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert lists["B2:B5001"] == "=Listen!$A$2:$A$24" and lists["D2:D5001"].startswith("=Listen!$D$2")
    # a department fills one row and sends it back
    ws.append([2026, "M04", None, SGB, 5, 50, "10,0"])
    wb.save(out)
    con = db.connect(demo_copy)
    fa = ingest.analyse_file(con, out.read_bytes(), out.name)
    con.close()
    assert not fa.errors, fa.findings_frame().to_string()
    assert fa.values[["indikator_id", "sozialraum_id", "jahr", "wert"]].values.tolist() == [["sgb2_u18", "M04", 2026, 10.0]]


def test_error_report_marks_faulty_cells(demo_copy, tmp_path):
    from quartier.ingest.template import error_report_xlsx, findings_csv

    path = xlsx(tmp_path / "fehler.xlsx", {"D": long_rows([(2026, "Wehringhausn", SGB, "=1+1", 100, 10.0)])})
    con = db.connect(demo_copy)
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    con.close()
    rep = tmp_path / "bericht.xlsx"
    rep.write_bytes(error_report_xlsx(fa, path.read_bytes()))
    wb = load_workbook(rep)
    assert wb.sheetnames == ["Fehlerbericht", "D"]
    cell = wb["D"]["B8"]
    assert cell.value == "Wehringhausn" and cell.fill.fgColor.rgb.endswith("FFC7CE") and "Meinten Sie" in cell.comment.text
    rows = list(wb["Fehlerbericht"].iter_rows(min_row=5, values_only=True))
    assert any(r[3] == "B8" and r[0] == "Fehler" for r in rows)
    csv = findings_csv(fa).decode("utf-8-sig")
    assert csv.startswith("Art;Datei;Blatt;Zelle;Spalte;Wert;Regel;Meldung") and ";B8;" in csv


def test_error_report_is_bounded_for_huge_faulty_files(demo_copy, tmp_path, monkeypatch):
    """Attack review (issue 20, item 7): the report for a 1,000,000-row faulty file copied the whole workbook (1.9 GB).
    Beyond the bounds it lists findings only (the first N) and says what was left out."""
    from quartier.ingest import template
    from quartier.ingest.template import error_report_xlsx

    rows = long_rows([(2026, f"Gibtsnicht {i}", SGB, 1, 10, "10,0") for i in range(30)])
    path = xlsx(tmp_path / "viele_fehler.xlsx", {"D": rows})
    con = db.connect(demo_copy)
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    con.close()
    assert len(fa.findings_frame()) > 5
    monkeypatch.setattr(template, "MAX_REPORT_FINDINGS", 5)
    monkeypatch.setattr(template, "MAX_REPORT_CELLS", 50)
    rep = tmp_path / "bericht.xlsx"
    rep.write_bytes(error_report_xlsx(fa, path.read_bytes()))
    wb = load_workbook(rep)
    assert wb.sheetnames == ["Fehlerbericht"]  # the sheets are not copied back
    note = wb["Fehlerbericht"]["A2"].value
    assert "zu groß" in note and "ersten 5 von" in note
    assert len(list(wb["Fehlerbericht"].iter_rows(min_row=5, values_only=True))) == 5
