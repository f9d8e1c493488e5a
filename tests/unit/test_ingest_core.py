"""The importer on real files written by the tests, against a real demo DuckDB copy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quartier import access, db, ingest
from quartier.access import Actor
from quartier.demo import hagen as demo
from quartier.ingest import values as V
from tests.unit.ingest_files import long_rows, xlsx

EDITOR = Actor("pruefer", access.EDITOR)
VIEWER = Actor("gast", access.VIEWER)
SGB = "Minderjährige in SGB-II-Bedarfsgemeinschaften"


def current(con, iid, sid, year):
    return con.cursor().execute(
        "SELECT wert, zaehler, nenner, gesperrt, lieferung_id FROM messwert_aktuell"
        " WHERE indikator_id=? AND sozialraum_id=? AND jahr=?", [iid, sid, year]).fetchone()


def n_deliveries(con):
    return con.cursor().execute("SELECT count(*), (SELECT count(*) FROM messwert) FROM lieferung").fetchone()


def analyse(con, path, **kw):
    return ingest.analyse_file(con, path.read_bytes(), path.name, **kw)


def test_parse_german_numbers_and_marks():
    raw = [12.5, "12,5", "12.5", "1.234", "12,5 %", " 7 ", "1.234,5", "*", ".", "•", "x", "–", "-", "", None, "abc", "1,2.3"]
    vals, st = V.parse_numbers(raw)
    assert list(vals[:7]) == [12.5, 12.5, 12.5, 1234.0, 12.5, 7.0, 1234.5]
    assert list(st[7:10]) == [V.SUPPRESSED] * 3
    assert list(st[10:13]) == [V.NOTHING] * 3
    assert list(st[13:15]) == [V.EMPTY] * 2
    assert list(st[15:]) == [V.INVALID] * 2
    assert np.isnan(vals[7:]).all()  # marks are never 0


def test_long_file_with_title_rows_totals_footnotes_and_german_numbers(con, tmp_path):
    rows = long_rows([
        (2026, "Zentrum/Remberg", SGB, "1.234", "2.468", "50,0 %"),
        (2026, "altenhagen / eckesey-sued", "SGB II Quote u18", "*", 2000, "*"),
        (2026, "Wehringhausen", "sgb2_u18", 10, 40, "25"),
        (2026, "Stadt Hagen gesamt", SGB, 5000, 20000, 25.0),
        [],
        ["* gesperrt: weniger als 3 Fälle"],
    ])
    path = xlsx(tmp_path / "jc.xlsx", {"Daten": rows}, merged={"Daten": ["A1:B3"]})
    fa = analyse(con, path, lieferant="Jobcenter")
    assert not fa.errors, fa.findings_frame().to_string()
    plan = fa.plans[0]
    assert plan.header_row == 6 and plan.layout == "lang"  # header on line 7 under title and logo
    assert any(f.rule == "summenzeile" for f in fa.infos)
    assert any(f.rule == "anmerkung" for f in fa.infos)
    assert fa.counts() == {"new": 3, "changed": 0, "unchanged": 0, "suppressed": 1}
    rep = ingest.commit(con, fa, EDITOR, confirm_warnings=True)
    assert rep["status"] == "imported" and rep["rows"]["new"] == 3
    assert current(con, "sgb2_u18", "M01", 2026)[:4] == (50.0, 1234.0, 2468.0, False)
    w, z, n, g, _ = current(con, "sgb2_u18", "M02", 2026)
    assert g is True and w is None and z is None and n == 2000.0  # suppressed, never 0
    assert current(con, "sgb2_u18", "M04", 2026)[0] == 25.0
    lf = con.cursor().execute("SELECT lieferant, berichtsjahr, importiert_von, sha256, status FROM lieferung WHERE id=?",
                              [rep["lieferung_id"]]).fetchone()
    assert lf[:3] == ("Jobcenter", 2026, "pruefer") and len(lf[3]) == 64 and lf[4] == "aktiv"
    audit = con.cursor().execute("SELECT benutzer, aktion FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert audit == ("pruefer", "lieferung_importieren")


def test_wide_by_indicator_with_merged_headers_and_hidden_sheet(con, tmp_path):
    top = ["Nr.", "Sozialraum", "Einwohnerinnen und Einwohner", "Haushalte Alleinerziehender", None, None]
    sub = [None, None, "Anzahl", "Anzahl", "Basis", "%"]
    rows = [["Bevölkerung 2026"], [], top, sub, ["M01", "Zentrum/Remberg", 12000, 300, 1000, 30.0],
            ["M04", "Wehringhausen", 15000, 200, 800, "25,0"]]
    hidden = [["Jahr", "Sozialraum", "Kennzahl", "Wert"], [2026, "Nirgendwo", "Unsinn", "abc"]]
    path = xlsx(tmp_path / "ew.xlsx", {"2026": rows, "alt": hidden}, merged={"2026": ["D3:F3"]}, hidden=("alt",))
    fa = analyse(con, path)
    assert not fa.errors, fa.findings_frame().to_string()
    assert fa.plans[0].layout == "breit_indikator" and fa.plans[0].jahr == 2026
    assert any("Ausgeblendetes Blatt „alt“" in f.message for f in fa.infos)
    assert fa.lieferant == "Einwohnerwesen"
    v = fa.values.set_index(["indikator_id", "sozialraum_id"])
    assert v.loc[("ew_gesamt", "M01"), "wert"] == 12000
    assert np.isnan(v.loc[("ew_gesamt", "M01"), "zaehler"])
    assert tuple(v.loc[("alleinerziehend", "M04"), ["wert", "zaehler", "nenner"]]) == (25.0, 200, 800)


def test_wide_by_year_with_merged_year_headers(con, tmp_path):
    rows = [["Übergangsquote zum Gymnasium nach Wohn-Sozialraum"], ["Sozialraum", 2024, None, None, 2025, None, None],
            [None, "Anzahl", "Basis", "%", "Anzahl", "Basis", "%"],
            ["Zentrum/Remberg", 10, 40, 25.0, 12, 40, 30.0]]
    path = xlsx(tmp_path / "schule.xlsx", {"Tabelle1": rows}, merged={"Tabelle1": ["B2:D2", "E2:G2"]})
    fa = analyse(con, path)
    assert not fa.errors, fa.findings_frame().to_string()
    p = fa.plans[0]
    assert p.layout == "breit_jahr" and p.indikator_id == "uebergang_gym" and p.header_rows == 2
    got = fa.values.set_index("jahr")[["wert", "zaehler", "nenner"]]
    assert tuple(got.loc[2025]) == (30.0, 12, 40)


def test_cp1252_csv_with_umlauts(con, tmp_path):
    text = "Berichtsjahr;Sozialraum;Kennzahl;Zähler;Nenner;Wert\r\n2026;Altenhagen/Eckesey-Süd;Betreuungsquote unter 3 Jahren;50;200;25,0\r\n"
    path = tmp_path / "jugendamt.csv"
    path.write_bytes(text.encode("cp1252"))
    fa = analyse(con, path)
    assert not fa.errors, fa.findings_frame().to_string()
    assert fa.values[["indikator_id", "sozialraum_id", "jahr", "wert"]].values.tolist() == [["kita_u3", "M02", 2026, 25.0]]


def test_validation_errors_name_cell_column_and_rule(con, tmp_path):
    rows = long_rows([
        (2026, "Wehringhausn", SGB, 10, 100, 10.0),          # A8: unknown, suggestion
        (2026, "Zentrum/Remberg", SGB, "viele", 100, 10.0),  # D9: not a number
        (2026, "Zentrum/Remberg", SGB, 120, 100, 100.0),     # D10: z > n (and duplicate of row 9 key)
        (2026, "Haspe-Zentrum", SGB, -3, 100, 0.0),          # D11 negative
        (2026, "Eilpe/Delstern/Selbecke", SGB, None, None, 140.0),  # F12 out of range
        (1980, "Wehringhausen", SGB, 1, 10, 10.0),           # A13 year ("Hohenlimburg" alone is a Stadtbezirk: a total)
        (2026, "Vorhalle", SGB, 10, 100, 30.0),              # F14 contradicts 10/100
    ], title=True)
    path = xlsx(tmp_path / "bad.xlsx", {"Daten": rows})
    before = n_deliveries(con)
    fa = analyse(con, path, lieferant="Jobcenter")
    by_rule = {}
    for f in fa.errors:
        by_rule.setdefault(f.rule, []).append(f)
    unk = by_rule["unbekannt_sozialraum"][0]
    assert (unk.sheet, unk.cell, unk.column, unk.value) == ("Daten", "B8", "Sozialraum", "Wehringhausn")
    assert "Meinten Sie „Wehringhausen“ (M04)?" in unk.message
    assert by_rule["keine_zahl"][0].cell == "D9" and by_rule["keine_zahl"][0].column == "Zähler"
    assert by_rule["zaehler_groesser_nenner"][0].cell == "D10"
    assert by_rule["doppelt"][0].cell == "F10" and "F9" in by_rule["doppelt"][0].message
    assert {f.cell for f in by_rule["negative_anzahl"]} == {"D11"}
    assert "F12" in {f.cell for f in by_rule["unplausibel"]}
    assert by_rule["jahr"][0].cell == "A13" and by_rule["jahr"][0].value == "1980"
    # F10: its numerator above the denominator is the cause; no second message "widerspruch" (one per cause)
    assert {f.cell for f in by_rule["widerspruch_zaehler_nenner"]} == {"F11", "F14"}
    with pytest.raises(ingest.ImportRejected):
        ingest.commit(con, fa, EDITOR, confirm_warnings=True)
    assert n_deliveries(con) == before
    # the error report lists every finding
    report = fa.report()
    assert report["status"] == "rejected" and {"sheet", "cell", "column", "value", "rule", "message"} <= set(report["errors"][0])


def test_accepted_suggestion_is_remembered(con, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", {"D": long_rows([(2026, "Wehringhausn", SGB, 10, 100, 10.0)])})
    fa = analyse(con, path)
    assert fa.suggestions == [{"art": "sozialraum", "text": "Wehringhausn", "ziel_id": "M04", "ziel": "Wehringhausen"}]
    fa = analyse(con, path, accepted={("sozialraum", "Wehringhausn"): "M04"})
    assert not fa.errors
    ingest.commit(con, fa, EDITOR, confirm_warnings=True)
    path2 = xlsx(tmp_path / "b.xlsx", {"D": long_rows([(2026, "Wehringhausn", SGB, 11, 100, 11.0)])})
    assert analyse(con, path2).errors  # accepted once: for that file only, no alias without the second confirmation
    key = ("sozialraum", "Wehringhausn")
    fa2 = analyse(con, path2, accepted={key: "M04"}, remember={key})
    ingest.commit(con, fa2, EDITOR, confirm_warnings=True)
    path3 = xlsx(tmp_path / "c.xlsx", {"D": long_rows([(2026, "Wehringhausn", SGB, 12, 100, 12.0)])})
    assert not analyse(con, path3).errors  # confirmed for all later files: remembered as an alias


def test_change_needs_confirmation_duplicate_and_withdraw(con, tmp_path):
    old = current(con, "sgb2_u18", "M01", 2025)
    path = xlsx(tmp_path / "korrektur.xlsx", {"D": long_rows([(2025, "M01", "sgb2_u18", 1, 100, 1.0)])})
    fa = analyse(con, path)
    assert fa.counts()["changed"] == 1
    change = next(f for f in fa.warnings if f.rule == "aenderung")
    assert change.cell == "F8" and "→ 1" in change.message
    with pytest.raises(ingest.ImportRejected, match="bestätigt"):
        ingest.commit(con, fa, EDITOR)
    rep = ingest.commit(con, fa, EDITOR, confirm_warnings=True)
    assert rep["rows"]["changed"] == 1
    assert current(con, "sgb2_u18", "M01", 2025)[0] == 1.0
    # the same file again: duplicate, nothing changes
    before = n_deliveries(con)
    again = analyse(con, path)
    assert again.duplicate["lieferung_id"] == rep["lieferung_id"]
    assert ingest.commit(con, again, EDITOR, confirm_warnings=True)["status"] == "duplicate"
    assert n_deliveries(con) == before
    # withdraw: the superseded value counts again; the old rows were never deleted
    res = ingest.withdraw(con, rep["lieferung_id"], EDITOR)
    assert res["wieder_gueltig"] == 1
    assert current(con, "sgb2_u18", "M01", 2025) == old
    hist = ingest.history(con)
    assert hist.loc[hist["id"] == rep["lieferung_id"], "status"].item() == "zurueckgezogen"
    with pytest.raises(ingest.ImportRejected, match="bereits zurückgezogen"):
        ingest.withdraw(con, rep["lieferung_id"], EDITOR)
    # the withdrawn file may come again (and says so)
    again = analyse(con, path)
    assert again.duplicate is None and any(f.rule == "frueher_zurueckgezogen" for f in again.infos)


def test_viewer_may_not_import_or_withdraw(con, tmp_path):
    path = xlsx(tmp_path / "v.xlsx", {"D": long_rows([(2026, "M01", "sgb2_u18", 1, 100, 1.0)])})
    fa = analyse(con, path)
    with pytest.raises(access.PermissionDenied):
        ingest.commit(con, fa, VIEWER, confirm_warnings=True)
    with pytest.raises(access.PermissionDenied):
        ingest.withdraw(con, 1, VIEWER)


def test_formula_without_cached_value_is_an_error(con, tmp_path):
    rows = long_rows([(2026, "M01", "sgb2_u18", 10, 100, "=D8/E8*100")])
    fa = analyse(con, xlsx(tmp_path / "f.xlsx", {"Daten": rows}))
    f = next(f for f in fa.errors if f.rule == "formel_ohne_wert")
    assert (f.sheet, f.cell) == ("Daten", "F8")


def test_remembered_column_mapping(con, tmp_path):
    rows = [["Sozialraum", "Jahr", "Kennzahl", "Messwert XY"], ["M01", 2026, "sgb2_u18", 12.5]]
    path = xlsx(tmp_path / "m.xlsx", {"D": rows})
    fa = analyse(con, path, lieferant="Jobcenter")
    assert any(f.rule == "zuordnung" for f in fa.errors)  # no value column recognised
    plan = fa.plans[0]
    next(c for c in plan.columns if c.header == "Messwert XY").role = "wert"
    fa = analyse(con, path, lieferant="Jobcenter", plans={"D": plan})
    assert not fa.errors
    ingest.commit(con, fa, EDITOR, confirm_warnings=True)
    path2 = xlsx(tmp_path / "m2.xlsx", {"D": [rows[0], ["M01", 2026, "sgb2_u15", 13.5]]})
    fa2 = analyse(con, path2, lieferant="Jobcenter")
    assert not fa2.errors and fa2.values["wert"].tolist() == [13.5]


def test_lieferstatus_shows_outstanding_indicators(con):
    st = ingest.lieferstatus(con, [2025, 2026])
    jc = st[st["lieferant"] == "Jobcenter"]
    assert set(jc.loc[jc["jahr"] == 2025, "status"]) == {"geliefert"}
    assert set(jc.loc[jc["jahr"] == 2026, "status"]) == {"ausstehend"}
    assert (jc.loc[jc["jahr"] == 2025, "sozialraeume"] == 23).all()


def test_imported_demo_equals_build_values(demo_db):
    """The demo deliveries went through the importer: the stored values are exactly the generated ones."""
    con = db.connect(demo_db, read_only=True)
    got = db.query_df(con, "SELECT indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt FROM messwert_aktuell")
    con.close()
    exp = demo.build_values(demo.build_geometry())
    m = exp.merge(got, on=["indikator_id", "sozialraum_id", "jahr"], how="outer", suffixes=("_e", "_g"), indicator=True)
    assert (m["_merge"] == "both").all() and len(m) == len(exp)
    for c in ("wert", "zaehler", "nenner"):
        a, b = m[c + "_e"].astype(float), m[c + "_g"].astype(float)
        assert ((a.isna() & b.isna()) | ((a - b).abs() < 1e-9)).all(), c
    assert (m["gesperrt_e"].astype(bool) == m["gesperrt_g"].astype(bool)).all()
    assert isinstance(got, pd.DataFrame)


def test_unrecognised_number_column_is_reported_with_suggestion(con, tmp_path):
    rows = [["Nr.", "Sozialraum", "Einwohnerinnen und Einwohner", "Einwohner unter 18 Jahrn"],
            ["M01", "Zentrum/Remberg", 12000, 2000]]
    path = xlsx(tmp_path / "ew_2026.xlsx", {"2026": rows})
    fa = analyse(con, path)
    f = next(f for f in fa.warnings if f.rule == "spalte_nicht_zugeordnet")
    assert f.cell == "D1" and "Meinten Sie „Einwohner unter 18 Jahren“ (ew_u18)?" in f.message
    assert fa.values["indikator_id"].tolist() == ["ew_gesamt"]
    fa = analyse(con, path, accepted={("indikator", "Einwohner unter 18 Jahrn"): "ew_u18"})
    assert sorted(fa.values["indikator_id"]) == ["ew_gesamt", "ew_u18"]


def test_ods_xlsm_and_comma_csv(con, tmp_path):
    frame = pd.DataFrame({"Jahr": [2026], "Sozialraum": ["Wehringhausen"], "Kennzahl": ["kita_u3"], "Wert": [31.5]})
    ods = tmp_path / "jugendamt.ods"
    frame.to_excel(ods, engine="odf", index=False)
    xlsm = xlsx(tmp_path / "jugendamt.xlsm", {"D": [list(frame.columns), list(frame.iloc[0])]})
    csv = tmp_path / "jugendamt.csv"
    csv.write_text('Jahr,Sozialraum,Kennzahl,Wert\n2026,Wehringhausen,kita_u3,"31,5"\n', encoding="utf-8")
    for path in (ods, xlsm, csv):
        fa = analyse(con, path)
        assert not fa.errors, (path.name, fa.findings_frame().to_string())
        assert fa.values[["indikator_id", "sozialraum_id", "jahr", "wert"]].values.tolist() == [["kita_u3", "M04", 2026, 31.5]]


# The demo rebuild over existing data (through the importer, with backups) is checked together with
# `demo --force` in tests/unit/test_demo_cli.py::test_demo_command_json_and_force_on_a_demo_needs_no_confirmation_but_backs_up.


def test_sperrvermerk_column_round_trip(con, tmp_path):
    rows = [["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt"],
            ["sgb2_u18", "M01", 2026, None, None, 40, 1], ["sgb2_u18", "M02", 2026, 25.0, 10, 40, 0],
            ["ew_gesamt", "M03", 2026, None, None, None, "ja"]]
    fa = analyse(con, xlsx(tmp_path / "export.xlsx", {"Kennzahlen": rows}))
    assert not fa.errors, fa.findings_frame().to_string()
    got = fa.values.set_index(["indikator_id", "sozialraum_id"])
    assert bool(got.loc[("sgb2_u18", "M01"), "gesperrt"]) and got.loc[("sgb2_u18", "M01"), "nenner"] == 40
    assert not bool(got.loc[("sgb2_u18", "M02"), "gesperrt"]) and got.loc[("sgb2_u18", "M02"), "wert"] == 25.0
    assert bool(got.loc[("ew_gesamt", "M03"), "gesperrt"]) and np.isnan(got.loc[("ew_gesamt", "M03"), "wert"])


def test_total_row_is_checked_against_the_sum(con, tmp_path):
    rows = long_rows([
        (2026, "Zentrum/Remberg", SGB, 10, 100, 10.0), (2026, "Wehringhausen", SGB, 20, 100, 20.0),
        (2026, "Stadt Hagen gesamt", SGB, 30, 250, 12.0),
    ])
    fa = analyse(con, xlsx(tmp_path / "summe.xlsx", {"Daten": rows}))
    assert not fa.errors
    (w,) = [f for f in fa.warnings if f.rule == "summe_abweichend"]
    assert w.cell == "E10" and "250" in w.message and "200" in w.message
    assert len(fa.values) == 2  # the total itself is never stored


def test_formula_with_cached_value_is_read_as_its_value(con, tmp_path):
    import zipfile

    src = xlsx(tmp_path / "f.xlsx", {"Daten": long_rows([(2026, "M01", "sgb2_u18", 10, 40, "=D8/E8*100")])})
    out = tmp_path / "berechnet.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                assert b"<f>D8/E8*100</f><v></v>" in data or b"<f>D8/E8*100</f><v />" in data
                data = data.replace(b"<f>D8/E8*100</f><v></v>", b"<f>D8/E8*100</f><v>25</v>")
                data = data.replace(b"<f>D8/E8*100</f><v />", b"<f>D8/E8*100</f><v>25</v>")
            zout.writestr(item, data)
    fa = analyse(con, out)
    assert not fa.errors, fa.findings_frame().to_string()
    assert fa.values["wert"].tolist() == [25.0]


def test_two_editors_confirming_conflicting_files_the_second_is_stopped(con, tmp_path):
    """Attack review: the second editor's preview said "1 neu", it was stored as "1 geändert" without an overwrite
    warning. The diff is checked again inside the write transaction."""
    first = xlsx(tmp_path / "a.xlsx", {"Daten": long_rows([(2026, "Wehringhausen", "sgb2_u18", 10, 40, "25")])})
    second = xlsx(tmp_path / "b.xlsx", {"Daten": long_rows([(2026, "Wehringhausen", "sgb2_u18", 12, 40, "30")])})
    fa_a, fa_b = analyse(con, first), analyse(con, second)  # both previews: 1 new
    assert fa_a.counts()["new"] == fa_b.counts()["new"] == 1
    ingest.commit(con, fa_a, EDITOR, confirm_warnings=True)
    before = n_deliveries(con)
    with pytest.raises(ingest.ImportRejected, match="erneut prüfen"):
        ingest.commit(con, fa_b, EDITOR, confirm_warnings=True)
    assert n_deliveries(con) == before and current(con, "sgb2_u18", "M04", 2026)[0] == 25.0
    # checked again, the new preview says "1 geändert" and can be confirmed
    fa_b2 = analyse(con, second)
    assert fa_b2.counts()["changed"] == 1
    assert ingest.commit(con, fa_b2, EDITOR, confirm_warnings=True)["rows"]["changed"] == 1
