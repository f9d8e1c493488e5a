"""Issue 16 §4, import messages that help: one message per cause, rules in German (page table, command line text,
Prüfbericht), the template's own help sheets not reported, an area given by name with an empty id column.

Every test reads a real Excel file written with openpyxl."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from quartier import db, ingest
from quartier.ingest.analysis import RULE_LABELS, rule_label
from quartier.ingest.template import error_report_xlsx, findings_csv, write_template
from tests.unit.ingest_files import xlsx

HZE = "Hilfen zur Erziehung je 1.000 unter 21-Jährige"


def _two_areas(con):
    return con.execute("SELECT id, name FROM sozialraum ORDER BY id LIMIT 2").fetchall()


def _numerator_above_denominator(con, tmp_path):
    (_a1, n1), (_a2, n2) = _two_areas(con)
    rows = [["Berichtsjahr", "Sozialraum", "Kennzahl", "Zähler", "Nenner", "Wert"],
            [2025, n1, HZE, 3000, 1816, 1652.0],       # numerator > denominator: 0,125-style share and a jump too
            [2025, n2, HZE, 15, 1281, 11.7]]
    return xlsx(tmp_path / "jugendamt_2025.xlsx", {"Daten": rows})


def test_numerator_above_denominator_is_one_message_in_an_excel_file(demo_copy, tmp_path):
    con = db.connect(demo_copy)
    path = _numerator_above_denominator(con, tmp_path)
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    row2 = [f for f in fa.findings if f.sheet == "Daten" and f.cell[:1].isalpha() and f.cell[1:] == "2"]
    assert [f.rule for f in row2] == ["zaehler_groesser_nenner"], [(f.rule, f.message) for f in row2]
    assert not any("Anteil 0,125" in f.message for f in fa.findings)
    assert not any(f.rule in ("sprung_vorjahr", "aenderung", "widerspruch_zaehler_nenner", "unplausibel") and f.cell.endswith("2")
                   for f in fa.findings)
    # without the numerator error the same checks do speak: the rules are there, only not repeated for one cause
    other = xlsx(tmp_path / "jugendamt_b.xlsx", {"Daten": [["Berichtsjahr", "Sozialraum", "Kennzahl", "Wert"],
                                                           [2025, _two_areas(con)[0][1], HZE, 1652.0],
                                                           [2025, _two_areas(con)[1][1], HZE, 400.0]]})
    fb = ingest.analyse_file(con, other.read_bytes(), other.name)
    assert "unplausibel" in {f.rule for f in fb.findings if f.cell == "D2"}
    assert {"sprung_vorjahr", "aenderung"} <= {f.rule for f in fb.findings if f.cell == "D3"}


def test_rules_are_german_in_the_table_the_csv_and_the_pruefbericht(demo_copy, tmp_path):
    con = db.connect(demo_copy)
    path = _numerator_above_denominator(con, tmp_path)
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    ff = fa.findings_frame()
    assert "Zähler größer als Nenner" in set(ff["Regel"])
    assert not any("_" in r for r in ff["Regel"]), set(ff["Regel"])
    csv = findings_csv(fa).decode("utf-8-sig")
    assert "Zähler größer als Nenner" in csv and "zaehler_groesser_nenner" not in csv
    wb = load_workbook(io.BytesIO(error_report_xlsx(fa, path.read_bytes())))
    texts = [str(c.value) for row in wb["Fehlerbericht"].iter_rows() for c in row if c.value is not None]
    assert "Zähler größer als Nenner" in texts and not any("zaehler_groesser_nenner" in t for t in texts)


def test_cli_text_output_names_the_rule_in_german(cli, demo_copy, tmp_path):
    con = db.connect(demo_copy)
    path = _numerator_above_denominator(con, tmp_path)
    con.close()
    r = cli("import", str(path), "--db", str(demo_copy), "--dry-run")
    assert r.returncode == 1
    assert "Zähler größer als Nenner:" in r.stderr and "zaehler_groesser_nenner" not in r.stderr + r.stdout
    j = cli("import", str(path), "--db", str(demo_copy), "--dry-run", "--json")   # the JSON keeps the rule id
    assert '"rule": "zaehler_groesser_nenner"' in j.stdout


def test_every_rule_has_a_german_name():
    assert all("_" not in label and label[:1].isupper() for label in RULE_LABELS.values())
    assert rule_label("ganz_neue_regel") == "Ganz neue regel"


def _filled_template(con, tmp_path, name_only: bool = False):
    wb = load_workbook(io.BytesIO(write_template(con)))
    ws = wb["Daten"]
    areas = con.execute("SELECT id, name FROM sozialraum ORDER BY id LIMIT 2").fetchall()
    ind = con.execute("SELECT name FROM indikator WHERE einheit = 'Anzahl' ORDER BY sortierung LIMIT 1").fetchone()[0]
    ws.append([2025, None if name_only else areas[0][0], areas[0][1], ind, None, None, 100])
    ws.append([2025, areas[1][0], areas[1][1], ind, None, None, 200])
    path = tmp_path / "vorlage_ausgefuellt.xlsx"
    wb.save(path)
    return path, areas


def test_the_templates_own_help_sheets_are_not_reported(demo_copy, tmp_path):
    con = db.connect(demo_copy)
    path, _ = _filled_template(con, tmp_path)
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    assert not fa.errors, [f.message for f in fa.errors]
    about = [f.message for f in fa.findings if "Anleitung" in f.message or "Listen" in f.message or f.sheet in ("Anleitung", "Listen")]
    assert about == [] and not any(f.rule in ("keine_tabelle", "ausgeblendet") for f in fa.findings)
    assert [p.sheet for p in fa.plans] == ["Daten"] and len(fa.values) == 2
    # a sheet merely called "Anleitung" in somebody else's workbook is still reported
    other = xlsx(tmp_path / "fremd.xlsx", {"Anleitung": [["Bitte lesen"], ["Hinweise zur Tabelle"]],
                                           "Daten": [["Jahr", "Sozialraum", "Kennzahl", "Wert"]]})
    fo = ingest.analyse_file(con, other.read_bytes(), other.name)
    assert any(f.rule == "keine_tabelle" and "Anleitung" in f.message for f in fo.findings)


def test_area_given_by_name_with_an_empty_id_is_matched_by_name(demo_copy, tmp_path):
    con = db.connect(demo_copy)
    areas = con.execute("SELECT id, name FROM sozialraum ORDER BY id LIMIT 4").fetchall()
    ind = con.execute("SELECT name FROM indikator WHERE einheit = 'Anzahl' ORDER BY sortierung LIMIT 1").fetchone()[0]
    # the id column wins the area column (names written differently in most rows); one row has only the name
    rows = [["Jahr", "Sozialraum-Nr.", "Sozialraum", "Kennzahl", "Wert"],
            [2025, areas[0][0], areas[0][1] + " (alt)", ind, 100], [2025, areas[1][0], "siehe Nr.", ind, 200],
            [2025, areas[2][0], "", ind, 300], [2025, None, areas[3][1], ind, 400]]
    path = xlsx(tmp_path / "name_ohne_nr.xlsx", {"Daten": rows})
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    assert fa.plans[0].area_col == 1
    assert not fa.errors, [f.message for f in fa.errors]
    got = dict(zip(fa.values["sozialraum_id"], fa.values["wert"]))
    assert got == {areas[0][0]: 100, areas[1][0]: 200, areas[2][0]: 300, areas[3][0]: 400}
    # the filled-in template with the number left empty
    path, tpl_areas = _filled_template(con, tmp_path, name_only=True)
    ft = ingest.analyse_file(con, path.read_bytes(), path.name)
    assert not ft.errors and set(ft.values["sozialraum_id"]) == {a for a, _ in tpl_areas}
