"""Real published workbooks, imported as a new city would (issue 15, part 1).

The files are the statistical offices' own, as committed to public repositories (sources, commits and licences in
tests/data/published/README.md). They are not part of this repository: they live in the shared data folder next
to it (``../shared/published``, or ``QUARTIER_PUBLISHED``); without them those tests are skipped. The tests at the
end rebuild, cell by cell, what the real files showed the importer getting wrong, and run without the files.

Every city here is built from the file's own areas (names as published, ids by position) with a small catalogue
whose ids share nothing with the demo; the expected values were read off the published cells by hand.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from quartier import access, db, ingest
from tests.unit.ingest_files import xlsx

EDITOR = access.Actor("pruefer", access.EDITOR)
PUBLISHED = Path(os.environ.get("QUARTIER_PUBLISHED") or Path(__file__).resolve().parents[3] / "shared" / "published")
HH17 = PUBLISHED / "hamburg_stadtteilprofile_2017.xlsx"
HH14 = PUBLISHED / "hamburg_stadtteilprofile_2014.xlsx"
HRO = PUBLISHED / "rostock_bewegung_gesamt_2017.xlsx"


def needs(path: Path):
    return pytest.mark.skipif(not path.is_file(), reason=f"{path.name} fehlt (siehe tests/data/published/README.md)")


# Hamburg's Bezirke, each with the first of its Stadtteile in the published order (the table lists them Bezirk by Bezirk)
HH_DISTRICTS = [("mitte", "Hamburg-Mitte", "Hamburg-Altstadt"), ("altona", "Altona", "Altona-Altstadt"),
                ("eimsb", "Eimsbüttel", "Eimsbüttel"), ("nord", "Hamburg-Nord", "Hoheluft-Ost"),
                ("wandsbek", "Wandsbek", "Eilbek"), ("bergedorf", "Bergedorf", "Lohbrügge"), ("harburg", "Harburg", "Harburg")]
HH17_CATALOGUE = [  # id, name, einheit, min
    ("hh_einwohner", "Bevölkerung", "Anzahl", 0), ("hh_minderjaehrige", "Unter 18-Jährige", "Anzahl", 0),
    ("hh_anteil_minderjaehrige", "Anteil der unter 18-Jährigen", "%", 0),
    ("hh_migration", "Bevölkerung mit Migrationshintergrund", "Anzahl", 0),
    ("hh_wanderung", "Wanderungssaldo", "Anzahl", -1_000_000), ("hh_preis_etw", "Preise für Eigentumswohnungen in EUR/m²", "EUR/m²", 0),
]
HH14_CATALOGUE = [
    ("hh_einwohner", "Bevölkerung", "Anzahl", 0), ("hh_minderjaehrige", "Unter 18-Jährige", "Anzahl", 0),
    ("hh_arbeitslose", "Arbeitslose", "Personen", 0), ("hh_sgb2", "Leistungsempfänger/-innen nach SGB II", "Anzahl", 0),
    ("hh_preis_etw", "Preise für Eigentumswohnungen in EUR/m²", "EUR/m²", 0),
]


def build_city(con, city: str, districts, areas, catalogue) -> None:
    with db.transaction(con) as cur:
        db.set_setting(cur, "stadt", city)
        for nr, (bid, name, *_first) in enumerate(districts, start=1):
            cur.execute("INSERT INTO stadtbezirk (id, nr, name) VALUES (?, ?, ?)", [bid, nr, name])
        for sid, name, bid in areas:
            cur.execute("INSERT INTO sozialraum (id, name, bezirk_id, geometry) VALUES (?, ?, ?, '{}')", [sid, name, bid])
        for k, (iid, name, unit, lo) in enumerate(catalogue):
            cur.execute("INSERT INTO indikator (id, name, einheit, min_wert, lieferant, sortierung) VALUES (?, ?, ?, ?, ?, ?)",
                        [iid, name, unit, lo, "Statistisches Amt", k])


def hamburg_areas(path: Path) -> list[tuple[str, str, str]]:
    """The Stadtteile as the file lists them (rows 5 to 103), each in the Bezirk whose first Stadtteil came last."""
    names = [r[0] for r in openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(min_row=5, max_row=103, values_only=True)]
    firsts, out, bezirk = {first: bid for bid, _n, first in HH_DISTRICTS}, [], ""
    for k, name in enumerate(names, start=1):
        bezirk = firsts.get(name, bezirk)
        out.append((f"{k:03d}", name, bezirk))
    return out


@pytest.fixture
def hamburg(empty_con):
    def _city(path: Path, catalogue) -> tuple[object, dict[str, str]]:
        areas = hamburg_areas(path)
        build_city(empty_con, "Hamburg", HH_DISTRICTS, areas, catalogue)
        return empty_con, {name: sid for sid, name, _b in areas}
    return _city


def val(fa, iid, sid):
    v = fa.values[(fa.values["indikator_id"] == iid) & (fa.values["sozialraum_id"] == sid)]
    assert len(v) == 1, (iid, sid, v)
    return v.iloc[0]


@needs(HH17)
def test_hamburg_stadtteil_profile_2017_as_published(hamburg):
    con, ids = hamburg(HH17, HH17_CATALOGUE)
    assert len(ids) == 99
    fa = ingest.analyse_file(con, HH17.read_bytes(), HH17.name)
    assert not fa.errors, fa.findings_frame().to_string()
    p = fa.plans[0]
    # the area column by its content; its header "Stadtgebiet" is merged over the three header rows A2:A4
    assert (p.area_col, p.header_row, p.header_rows, p.first_data_row) == (0, 1, 3, 4)
    assert (p.columns[0].header, p.columns[0].role, p.columns[0].rolle_quelle) == ("Stadtgebiet", "sozialraum", "inhalt")
    cols = {c.letter: c for c in p.columns}
    got = {k: (cols[k].indikator_id, cols[k].indikator_quelle, cols[k].jahr, cols[k].jahr_quelle) for k in "B D I AA BD".split()}
    assert got == {"B": ("hh_einwohner", "name", 2017, "gruppenkopf"),           # "Bevölkerung und Haushalte 31.12.2017"
                   "D": ("hh_anteil_minderjaehrige", "name", 2017, "gruppenkopf"),  # "Anteil der unter 18-Jährigen in %"
                   "I": ("hh_migration", "name", 2017, "gruppenkopf"),           # "Bevölkerung mit Migrations-hintergrund"
                   "AA": ("hh_wanderung", "name", 2017, "gruppenkopf"),          # "Bevölkerungsbewegung 2017"
                   "BD": ("hh_preis_etw", "name", 2018, "spaltenkopf")}          # "… in EUR/m² (Jan 2018)"
    assert "Migrationshintergrund" in cols["I"].header and "Lohn- und Einkommensteuerpflichtige" in cols["AO"].header
    # the seven Bezirk totals and the city after the last Stadtteil: never areas, whatever their name
    info = " ".join(f.message for f in fa.infos if f.rule == "summenzeile")
    assert "8 Summenzeile(n)" in info and "Name kommt schon weiter oben vor" in info and "Name der Stadt" in info
    assert all(len(fa.values[fa.values["indikator_id"] == iid]) == 99 for iid, *_ in HH17_CATALOGUE)
    assert val(fa, "hh_einwohner", ids["Eimsbüttel"])["wert"] == 57541       # Stadtteil, not the Bezirk's 263710
    assert val(fa, "hh_einwohner", ids["Harburg"])["wert"] == 25860          # Stadtteil, not the Bezirk's 165889
    assert val(fa, "hh_einwohner", ids["Hamburg-Altstadt"])["wert"] == 2305
    assert val(fa, "hh_minderjaehrige", ids["HafenCity"])["wert"] == 756
    assert val(fa, "hh_anteil_minderjaehrige", ids["Hamburg-Altstadt"])["wert"] == pytest.approx(12.0173535791757)
    assert val(fa, "hh_migration", ids["Eißendorf"])["wert"] == 9431
    assert val(fa, "hh_wanderung", ids["Eimsbüttel"])["wert"] == -182         # a negative balance is no error
    assert val(fa, "hh_wanderung", ids["Hamburg-Altstadt"])["wert"] == 1
    assert val(fa, "hh_preis_etw", ids["Hamburg-Altstadt"])["wert"] == 5710
    sealed = val(fa, "hh_preis_etw", ids["Neuallermöhe"])                    # ".    " (a dot and four spaces)
    assert bool(sealed["gesperrt"]) and np.isnan(sealed["wert"])
    assert int(fa.values[fa.values["indikator_id"] == "hh_preis_etw"]["gesperrt"].sum()) == 21
    assert not fa.suggestions


@needs(HH17)
def test_hamburg_district_totals_checked_against_their_own_stadtteile(hamburg):
    """Bezirke Altona … Harburg equal the sums of their Stadtteile; Hamburg-Mitte and the city do not, as the office
    notes (Neuwerk and the seafarers count only there): only those are reported, with the Bezirk's own sum."""
    con, _ids = hamburg(HH17, HH17_CATALOGUE)
    fa = ingest.analyse_file(con, HH17.read_bytes(), HH17.name)
    by_cell = {f.cell: f.message for f in fa.warnings if f.rule == "summe_abweichend"}
    assert "302.667" in by_cell["B104"] and "294.771" in by_cell["B104"]    # Hamburg-Mitte vs its 16 Stadtteile
    assert "1.880.997" in by_cell["B111"] and "1.873.101" in by_cell["B111"]  # the city vs all 99
    assert not [c for c in by_cell if c.startswith("B") and c[1:].isdigit() and 105 <= int(c[1:]) <= 110]
    # columns the catalogue does not take (Haushalte, Sterbefälle, Wohngebäude, PKW …) are not the user's to check
    assert {c.rstrip("0123456789") for c in by_cell} == {"B", "C", "AA"}   # I (Migrationshintergrund) adds up


@needs(HH17)
@pytest.mark.parametrize("official", ["Freie und Hansestadt Hamburg", "Hamburg, Freie und Hansestadt"])
def test_hamburg_city_set_up_under_its_official_name(hamburg, official):
    """A city set up as "Freie und Hansestadt Hamburg": the table's last row "Hamburg" is the city's total, not an
    unknown Sozialraum with "Meinten Sie Harburg?"."""
    con, _ids = hamburg(HH17, HH17_CATALOGUE)
    with db.transaction(con) as cur:
        db.set_setting(cur, "stadt", official)
    fa = ingest.analyse_file(con, HH17.read_bytes(), HH17.name)
    assert not fa.errors and not fa.suggestions, fa.findings_frame().to_string()
    assert "111 (Name der Stadt)" in " ".join(f.message for f in fa.infos if f.rule == "summenzeile")


@needs(HH17)
@pytest.mark.parametrize("pattern", ["Bezirk {}", "Bezirksamt {}", "Stadtbezirk {nr} {}"])
def test_hamburg_bezirke_set_up_with_a_prefix(empty_con, pattern):
    """Bezirke named "Bezirk Altona" in the city's geodata; the table says "Altona": its total, not an unknown
    Sozialraum with "Meinten Sie Altona-Nord?"."""
    districts = [(bid, pattern.format(name, nr=nr), first) for nr, (bid, name, first) in enumerate(HH_DISTRICTS, start=1)]
    build_city(empty_con, "Hamburg", districts, hamburg_areas(HH17), HH17_CATALOGUE)
    fa = ingest.analyse_file(empty_con, HH17.read_bytes(), HH17.name)
    assert not fa.errors and not fa.suggestions, fa.findings_frame().to_string()
    assert "8 Summenzeile(n)" in " ".join(f.message for f in fa.infos if f.rule == "summenzeile")
    assert not [f for f in fa.warnings if f.rule == "summe_abweichend" and f.cell in ("B105", "B106", "B110")]


@needs(HH17)
def test_hamburg_table_on_a_city_of_one_bezirk(empty_con):
    """A Jugendamt of one Bezirk (Eimsbüttel, 9 Stadtteile) imports the Hamburg-wide table: the header stays rows 2-4
    (Iserbrook's 2076 minors, three rows above Eimsbüttel, looked like a year: rows 25-32 were taken as the header
    and nothing was matched), its 9 Stadtteile are read and every other
    Stadtteil is an unknown Sozialraum, named with its cell."""
    areas = [a for a in hamburg_areas(HH17) if a[2] == "eimsb"]
    build_city(empty_con, "Hamburg", [d for d in HH_DISTRICTS if d[0] == "eimsb"], areas, HH17_CATALOGUE)
    fa = ingest.analyse_file(empty_con, HH17.read_bytes(), HH17.name)
    p = fa.plans[0]
    assert (p.area_col, p.header_row, p.header_rows, p.first_data_row) == (0, 1, 3, 4)
    assert len(fa.values) == 6 * 9 and val(fa, "hh_einwohner", "031")["wert"] == 57541
    unknown = {f.cell for f in fa.errors if f.rule == "unbekannt_sozialraum"}
    assert {"A5", "A34", "A44", "A103"} <= unknown and "A35" not in unknown   # Hamburg-Altstadt, Rissen, Hoheluft-Ost, Cranz


@needs(HH17)
def test_hamburg_a_deadline_in_the_header_is_no_data_year(hamburg):
    """"Sozialwohnungen mit Bindungsauslauf bis 2023" (its description says "bis 2022"): the values were filed under
    2022; the column names no data year, so the sheet's ("Stadtteilprofile 2017") applies."""
    con, ids = hamburg(HH17, [("hh_bindungsauslauf", "Sozialwohnungen mit Bindungsauslauf bis 2023", "Anzahl", 0)])
    fa = ingest.analyse_file(con, HH17.read_bytes(), HH17.name)
    assert not fa.errors, fa.findings_frame().to_string()
    az = next(c for c in fa.plans[0].columns if c.letter == "AZ")
    assert (az.indikator_id, az.jahr, fa.plans[0].jahr, fa.plans[0].jahr_quelle) == ("hh_bindungsauslauf", None, 2017, "blattname")
    assert set(fa.values["jahr"]) == {2017} and val(fa, "hh_bindungsauslauf", ids["Billstedt"])["wert"] == 2564
    zero = val(fa, "hh_bindungsauslauf", ids["HafenCity"])                   # a real 0 stays 0
    assert zero["wert"] == 0 and not bool(zero["gesperrt"])


@needs(HH14)
def test_hamburg_2014_years_from_the_group_header_and_the_columns_own(hamburg):
    con, ids = hamburg(HH14, HH14_CATALOGUE)
    fa = ingest.analyse_file(con, HH14.read_bytes(), HH14.name)
    assert not fa.errors, fa.findings_frame().to_string()
    cols = {c.indikator_id: c for c in fa.plans[0].columns if c.indikator_id}
    assert {k: (c.letter, c.jahr, c.jahr_quelle) for k, c in cols.items()} == {
        "hh_einwohner": ("B", 2013, "gruppenkopf"), "hh_minderjaehrige": ("C", 2013, "gruppenkopf"),  # "… 31.12.2013"
        "hh_arbeitslose": ("AF", 2013, "spaltenkopf"), "hh_sgb2": ("AL", 2013, "spaltenkopf"),      # "(Dez 2013)"
        "hh_preis_etw": ("BF", 2014, "spaltenkopf")}                                                 # "(Jan 2014)"
    assert val(fa, "hh_einwohner", ids["Eimsbüttel"])["wert"] == 56097
    assert val(fa, "hh_arbeitslose", ids["HafenCity"])["wert"] == 14
    assert val(fa, "hh_sgb2", ids["Harburg"])["wert"] == 4121
    assert bool(val(fa, "hh_preis_etw", ids["Hamburg-Altstadt"])["gesperrt"])   # "."
    assert val(fa, "hh_preis_etw", ids["HafenCity"])["wert"] == 6465
    assert set(fa.values.loc[fa.values["indikator_id"] == "hh_einwohner", "jahr"]) == {2013}


@needs(HH14)
@needs(HH17)
def test_hamburg_mapping_confirmed_for_2014_applies_to_2017_although_columns_moved(hamburg):
    """Between the two years the office dropped two columns of "Bevölkerungsbewegung": "Unter 15-Jährige in
    Mindestsicherung" moved from AN to AL. A mapping confirmed on the 2014 file must still find it."""
    con, ids = hamburg(HH14, [("hh_einwohner", "Bevölkerung", "Anzahl", 0),
                              ("hh_u18_zuwanderung", "Minderjährige mit Zuwanderungsgeschichte", "Anzahl", 0),
                              ("hh_u15_mindestsicherung", "Kinder in Mindestsicherung", "Anzahl", 0)])
    fa = ingest.analyse_file(con, HH14.read_bytes(), HH14.name, lieferant="Statistikamt Nord")
    plan = fa.plans[0]
    cols = {c.letter: c for c in plan.columns}
    cols["K"].indikator_id, cols["K"].role = "hh_u18_zuwanderung", "wert"       # same place in both years
    cols["AN"].indikator_id, cols["AN"].role = "hh_u15_mindestsicherung", "wert"
    fa = ingest.analyse_file(con, HH14.read_bytes(), HH14.name, lieferant="Statistikamt Nord", plans={plan.sheet: plan})
    ingest.commit(con, fa, EDITOR, confirm_warnings=True, lieferant="Statistikamt Nord")
    fa17 = ingest.analyse_file(con, HH17.read_bytes(), HH17.name, lieferant="Statistikamt Nord")
    assert not fa17.errors, fa17.findings_frame().to_string()
    got = {c.indikator_id: (c.letter, c.indikator_quelle, c.jahr) for c in fa17.plans[0].columns if c.indikator_id}
    assert got == {"hh_einwohner": ("B", "gemerkt", 2017), "hh_u18_zuwanderung": ("K", "gemerkt", 2017),
                   "hh_u15_mindestsicherung": ("AL", "gemerkt", 2017)}
    assert val(fa17, "hh_u15_mindestsicherung", ids["Billstedt"])["wert"] == 4459   # AL14 of the 2017 file
    assert val(fa17, "hh_u18_zuwanderung", ids["HafenCity"])["wert"] == 512     # K6


@needs(HH17)
def test_hamburg_cli_show_mapping_and_apply_it_unchanged(hamburg, tmp_path, cli):
    con, _ids = hamburg(HH17, HH17_CATALOGUE)
    dbp = tmp_path / "empty.duckdb"   # the file behind empty_con
    con.close()
    shown = cli("import", HH17, "--show-mapping", "--json", "--db", dbp)
    assert shown.returncode == 0, shown.stderr
    plan = json.loads(shown.stdout)
    sheet = plan["sheets"][0]
    assert (sheet["header_rows"], sheet["first_data_row"], sheet["area_column"]) == ([2, 3, 4], 5, "A")
    aa = next(c for c in sheet["columns"] if c["column"] == "AA")
    assert (aa["indicator"], aa["year"], aa["year_source"], aa["role"]) == ("hh_wanderung", 2017, "gruppenkopf", "wert")
    pf = tmp_path / "plan.json"
    pf.write_text(shown.stdout, encoding="utf-8")
    detected = json.loads(cli("import", HH17, "--dry-run", "--json", "--db", dbp).stdout)
    applied = json.loads(cli("import", HH17, "--dry-run", "--json", "--mapping", pf, "--db", dbp).stdout)
    assert detected["status"] == applied["status"] == "dry-run"
    assert detected["rows"] == applied["rows"] and detected["rows"]["new"] == 6 * 99


@needs(HRO)
def test_rostock_export_without_a_year_says_so_and_a_corrected_plan_imports_it(empty_con, tmp_path, cli):
    """Rostock's open-data export names no year anywhere (sheet "sql_statement", no title): the importer asks for
    it; the plan printed by --show-mapping, with the year and the balance column set, then imports signed counts."""
    rows = list(openpyxl.load_workbook(HRO, read_only=True).worksheets[0].iter_rows(min_row=2, values_only=True))
    build_city(empty_con, "Rostock", [("hro", "Rostock gesamt")], [(r[0], r[1], "hro") for r in rows],
               [("hro_veraenderung", "Bestandsveränderung", "Anzahl", -100_000)])
    dbp = tmp_path / "empty.duckdb"
    empty_con.close()
    shown = cli("import", HRO, "--show-mapping", "--json", "--db", dbp)
    plan = json.loads(shown.stdout)
    sheet = plan["sheets"][0]
    assert (sheet["area_column"], sheet["year"]) == ("A", None)
    rejected = json.loads(cli("import", HRO, "--dry-run", "--json", "--db", dbp).stdout)
    assert rejected["status"] == "rejected" and "Das Jahr ist weder als Spalte" in json.dumps(rejected, ensure_ascii=False)
    col = next(c for c in sheet["columns"] if c["column"] == "C")      # "abs_bestandsveraenderung"
    col.update(indicator="hro_veraenderung", role="wert", year=2017)
    pf = tmp_path / "plan.json"
    pf.write_text(json.dumps(plan), encoding="utf-8")
    r = cli("import", HRO, "--json", "--mapping", pf, "--db", dbp)
    assert r.returncode == 0, r.stderr + r.stdout
    assert json.loads(r.stdout)["rows"]["new"] == len(rows) == 21
    con = db.connect(dbp, read_only=True)
    got = dict(con.execute("SELECT sozialraum_id, wert FROM messwert WHERE indikator_id = 'hro_veraenderung' AND jahr = 2017").fetchall())
    con.close()
    assert got["I"] == 33 and got["J"] == -15 and got["P"] == 0   # Hansaviertel, Gartenstadt/Stadtweide, Dierkow-Neu


# --------------------------------------------------------------------- what the real files showed (run without them)


def test_all_district_totals_after_all_areas_each_checked_against_its_own_areas(empty_con, tmp_path):
    """The Hamburg layout: every Stadtteil first, then every Bezirk total, then the city. The first Bezirk total
    was compared with the sum of all Stadtteile above it (a false "Summe weicht ab"), the others with nothing."""
    build_city(empty_con, "Hansestadt", [("n", "Nordbezirk"), ("s", "Südbezirk")],
               [("11", "Alsterufer", "n"), ("12", "Brookdeich", "n"), ("21", "Heidberg", "s"), ("22", "Moorwisch", "s")],
               [("xe", "Einwohner", "Anzahl", 0)])
    rows = [["Einwohner 2017"], ["Stadtgebiet", "Einwohner"], ["Alsterufer", 100], ["Brookdeich", 50], ["Heidberg", 30],
            ["Moorwisch", 20], ["Nordbezirk", 150], ["Südbezirk", 51], ["Hansestadt", 200]]
    fa = ingest.analyse_file(empty_con, xlsx(tmp_path / "t.xlsx", {"T": rows}).read_bytes(), "t.xlsx")
    assert not fa.errors, fa.findings_frame().to_string()
    bad = [(f.cell, f.message) for f in fa.warnings if f.rule == "summe_abweichend"]
    assert len(bad) == 1 and bad[0][0] == "B8" and "nennt 51" in bad[0][1] and "zusammen 50" in bad[0][1], bad
    assert sorted(fa.values["sozialraum_id"]) == ["11", "12", "21", "22"]


def test_hyphen_of_a_word_left_out_stays_when_broken_words_are_joined(empty_con, tmp_path):
    build_city(empty_con, "Hansestadt", [("n", "Nordbezirk")], [("11", "Alsterufer", "n"), ("12", "Brookdeich", "n")],
               [("xs", "Lohn- und Einkommensteuerpflichtige", "Anzahl", 0), ("xw", "Wohnungen in Einund Zweifamilienhäusern", "Anzahl", 0)])
    rows = [["Tabelle 2017"], ["Stadtteil", "Lohn- und Einkommen-steuerpflichtige (2013)", "Ein- bzw Zwei-familienhäuser"],
            ["Alsterufer", 10, 3], ["Brookdeich", 20, 4]]
    fa = ingest.analyse_file(empty_con, xlsx(tmp_path / "h.xlsx", {"T": rows}).read_bytes(), "h.xlsx")
    cols = {c.letter: c for c in fa.plans[0].columns}
    assert cols["B"].header == "Lohn- und Einkommensteuerpflichtige (2013)"   # not "Lohnund Einkommensteuerpflichtige"
    assert cols["C"].header == "Ein- bzw Zweifamilienhäuser"
    assert (cols["B"].indikator_id, cols["B"].jahr) == ("xs", 2013)          # matching ignores the hyphen either way


def test_share_in_percent_matches_the_percent_indicator_never_the_count(empty_con, tmp_path):
    build_city(empty_con, "Hansestadt", [("n", "Nordbezirk")], [("11", "Alsterufer", "n"), ("12", "Brookdeich", "n")],
               [("xa", "Anteil der unter 18-Jährigen", "%", 0), ("xl", "Arbeitslose", "Anzahl", 0)])
    rows = [["Tabelle 2017"], ["Stadtteil", "Anteil der unter 18-Jährigen in %", "Arbeitslose in %", "Arbeitslose"],
            ["Alsterufer", 12.5, 4.1, 40], ["Brookdeich", 20.25, 6.0, 65]]
    fa = ingest.analyse_file(empty_con, xlsx(tmp_path / "p.xlsx", {"T": rows}).read_bytes(), "p.xlsx")
    cols = {c.letter: c.indikator_id for c in fa.plans[0].columns}
    assert cols["B"] == "xa" and cols["C"] is None and cols["D"] == "xl"
    assert val(fa, "xa", "12")["wert"] == 20.25 and val(fa, "xl", "12")["wert"] == 65


def test_remembered_column_found_by_its_header_when_columns_before_it_were_dropped(empty_con, tmp_path):
    build_city(empty_con, "Hansestadt", [("n", "Nordbezirk")], [("11", "Alsterufer", "n"), ("12", "Brookdeich", "n")],
               [("xk", "Kinder in Mindestsicherung", "Anzahl", 0)])

    def table(path, year, extra):
        head = ["Stadtteil", *(["Zuzüge", "Fortzüge"] if extra else []), f"Unter 15-Jährige in Mindestsicherung (Dez {year})"]
        return xlsx(path, {"T": [[f"Stadtteil-Profile {year}"], head, ["Alsterufer", *([1, 2] if extra else []), 30],
                                 ["Brookdeich", *([3, 4] if extra else []), 40]]})

    p14 = table(tmp_path / "p14.xlsx", 2014, extra=True)
    fa = ingest.analyse_file(empty_con, p14.read_bytes(), p14.name, lieferant="Amt")
    plan = fa.plans[0]
    col = next(c for c in plan.columns if c.letter == "D")
    col.indikator_id, col.role = "xk", "wert"
    fa = ingest.analyse_file(empty_con, p14.read_bytes(), p14.name, lieferant="Amt", plans={plan.sheet: plan})
    ingest.commit(empty_con, fa, EDITOR, confirm_warnings=True, lieferant="Amt")
    p17 = table(tmp_path / "p17.xlsx", 2017, extra=False)                    # the column is now B, not D
    fa17 = ingest.analyse_file(empty_con, p17.read_bytes(), p17.name, lieferant="Amt")
    assert not fa17.errors, fa17.findings_frame().to_string()
    assert val(fa17, "xk", "12")["wert"] == 40 and set(fa17.values["jahr"]) == {2017}


def test_sum_of_a_column_no_indicator_is_read_from_is_not_reported(empty_con, tmp_path):
    build_city(empty_con, "Hansestadt", [("n", "Nordbezirk")], [("11", "Alsterufer", "n"), ("12", "Brookdeich", "n")],
               [("xe", "Einwohner", "Anzahl", 0)])
    rows = [["Tabelle 2017"], ["Stadtteil", "Einwohner", "Haushalte"], [None, "Anzahl", "Anzahl"],
            ["Alsterufer", 100, 60], ["Brookdeich", 50, 30], ["Hansestadt", 151, 91]]
    fa = ingest.analyse_file(empty_con, xlsx(tmp_path / "s.xlsx", {"T": rows}).read_bytes(), "s.xlsx")
    assert [f.cell for f in fa.warnings if f.rule == "summe_abweichend"] == ["B6"]   # not C6: Haushalte are not read
    assert sorted(fa.values["sozialraum_id"]) == ["11", "12"]


def test_count_in_personen_described_as_anzahl_is_the_value(empty_con, tmp_path):
    """The description row "Anzahl der Arbeitslosen" made the column a Zähler; for a count kept in "Personen" (a
    count unit like "Anzahl") the value was then stored without a Wert."""
    build_city(empty_con, "Hansestadt", [("n", "Nordbezirk")], [("11", "Alsterufer", "n"), ("12", "Brookdeich", "n")],
               [("xa", "Arbeitslose", "Personen", 0)])
    rows = [["Tabelle"], ["Stadtteil", "Arbeitslose (Dez 2017)"], [None, "Anzahl der Arbeitslosen"], ["Alsterufer", 14], ["Brookdeich", 71]]
    fa = ingest.analyse_file(empty_con, xlsx(tmp_path / "a.xlsx", {"T": rows}).read_bytes(), "a.xlsx")
    assert not fa.errors, fa.findings_frame().to_string()
    assert val(fa, "xa", "12")["wert"] == 71


def test_a_lone_deadline_year_is_no_data_year_but_a_period_end_is(empty_con, tmp_path):
    build_city(empty_con, "Hansestadt", [("n", "Nordbezirk")], [("11", "Alsterufer", "n"), ("12", "Brookdeich", "n")],
               [("xb", "Bindungsauslauf bis 2023", "Anzahl", 0)])
    rows = [["Profile"], ["Stadtteil", "Bindungsauslauf bis 2023", "Veränderung der Einwohner 2013 bis 2016"],
            ["Alsterufer", 5, -3], ["Brookdeich", 7, 4]]
    fa = ingest.analyse_file(empty_con, xlsx(tmp_path / "b.xlsx", {"Stand 2017": rows}).read_bytes(), "b.xlsx")
    assert not fa.errors, fa.findings_frame().to_string()
    cols = {c.letter: c for c in fa.plans[0].columns}
    assert (cols["B"].jahr, cols["C"].jahr, fa.plans[0].jahr) == (None, 2016, 2017)
    assert val(fa, "xb", "12")["jahr"] == 2017 and val(fa, "xb", "12")["wert"] == 7


@pytest.mark.parametrize("official", ["Hansestadt Alsterhafen", "Hanse- und Universitätsstadt Alsterhafen", "Alsterhafen, Stadt"])
def test_total_row_with_the_city_name_without_its_title(empty_con, tmp_path, official):
    build_city(empty_con, official, [("n", "Nordbezirk")], [("11", "Alsterhausen", "n"), ("12", "Brookdeich", "n")],
               [("xe", "Einwohner", "Anzahl", 0)])
    rows = [["Einwohner 2017"], ["Stadtteil", "Einwohner"], ["Alsterhausen", 100], ["Brookdeich", 50], ["Alsterhafen", 155]]
    fa = ingest.analyse_file(empty_con, xlsx(tmp_path / "c.xlsx", {"T": rows}).read_bytes(), "c.xlsx")
    assert not fa.errors and not fa.suggestions, fa.findings_frame().to_string()   # not "Meinten Sie Alsterhausen?"
    assert "Name der Stadt" in " ".join(f.message for f in fa.infos if f.rule == "summenzeile")
    assert sorted(fa.values["sozialraum_id"]) == ["11", "12"]


def test_total_row_of_a_bezirk_set_up_as_bezirk_name(empty_con, tmp_path):
    build_city(empty_con, "Hansestadt", [("n", "Stadtbezirk 1 Nordstadt"), ("s", "Bezirksamt Südstadt")],
               [("11", "Nordstadt-Ost", "n"), ("12", "Brookdeich", "n"), ("21", "Südstadt-West", "s"), ("22", "Moorwisch", "s")],
               [("xe", "Einwohner", "Anzahl", 0)])
    rows = [["Einwohner 2017"], ["Stadtteil", "Einwohner"], ["Nordstadt-Ost", 100], ["Brookdeich", 50], ["Nordstadt", 150],
            ["Südstadt-West", 30], ["Moorwisch", 20], ["Südstadt", 51]]
    fa = ingest.analyse_file(empty_con, xlsx(tmp_path / "d.xlsx", {"T": rows}).read_bytes(), "d.xlsx")
    assert not fa.errors and not fa.suggestions, fa.findings_frame().to_string()   # not "Meinten Sie Nordstadt-Ost?"
    assert [f.cell for f in fa.warnings if f.rule == "summe_abweichend"] == ["B8"]   # Südstadt 51 vs 30 + 20


def test_a_count_between_1980_and_2100_above_the_first_known_area_is_data(empty_con, tmp_path):
    build_city(empty_con, "Hansestadt", [("n", "Nordbezirk")], [("11", "Alsterufer", "n"), ("12", "Brookdeich", "n")],
               [("xe", "Einwohner", "Anzahl", 0), ("xh", "Haushalte", "Anzahl", 0)])
    rows = [["Einwohner 2017"], ["Stadtteil", "Einwohner", "Haushalte"], ["Iserbrook", 4100, 2017], ["Alsterufer", 100, 60],
            ["Brookdeich", 50, 30]]
    fa = ingest.analyse_file(empty_con, xlsx(tmp_path / "y.xlsx", {"T": rows}).read_bytes(), "y.xlsx")
    p = fa.plans[0]
    assert (p.header_row, p.first_data_row) == (1, 2)                     # not: row 3 read as a header row
    assert [f.cell for f in fa.errors] == ["A3"] and fa.errors[0].rule == "unbekannt_sozialraum"
    assert val(fa, "xh", "12")["wert"] == 30


def test_columns_outside_the_catalogue_are_named_in_one_note_not_dropped_silently(empty_con, tmp_path):
    """The Stadtteil-Profile have 66 columns, a city's catalogue takes a few: the others (a year from the group header,
    no indicator) were dropped without a word. Now one note per sheet names them; nothing to confirm."""
    build_city(empty_con, "Hansestadt", [("n", "Nordbezirk")], [("11", "Alsterufer", "n"), ("12", "Brookdeich", "n")],
               [("xe", "Einwohner", "Anzahl", 0)])
    extra = [f"Merkmal {k}" for k in range(8)]
    rows = [["Stadtteilprofile 2017"], ["Stadtteil", "Bevölkerung 31.12.2017"] + [None] * 8,
            [None, "Einwohner", *extra, "Bemerkung"], ["Alsterufer", 100, *range(8), "neu"], ["Brookdeich", 50, *range(8), None]]
    fa = ingest.analyse_file(empty_con, xlsx(tmp_path / "o.xlsx", {"T": rows}, merged={"T": ["A2:A3", "B2:J2"]}).read_bytes(), "o.xlsx")
    assert not fa.errors and not fa.warnings, fa.findings_frame().to_string()
    notes = [f.message for f in fa.infos if f.rule == "spalte_ohne_kennzahl"]
    assert len(notes) == 1, fa.findings_frame().to_string()
    assert notes[0].startswith("Blatt „T“: 8 Spalte(n) mit Zahlen gehören zu keiner Kennzahl des Katalogs")
    assert "C „Merkmal 0“" in notes[0] and "H „Merkmal 5“" in notes[0] and "… und 2 weitere" in notes[0]
    assert "Bemerkung" not in notes[0]                      # a column of text is no value that got lost
    assert sorted(fa.values["indikator_id"]) == ["xe", "xe"] and set(fa.values["jahr"]) == {2017}
