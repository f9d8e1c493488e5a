"""Workbooks as statistical offices publish them (issue 15, part 1).

No download is possible here, so the files are rebuilt cell by cell in the layout of these published tables:

- ``hamburg_profile``: Statistikamt Nord, "Hamburger Stadtteil-Profile Berichtsjahr 2017" (NORD.regional Band 20),
  table "Stadtteil-Profile" (https://www.statistik-nord.de/zahlen-fakten/regionalstatistik-datenbanken-und-karten/
  hamburger-stadtteil-profile-staedtestatistik-fuer-hamburg): title rows, one row per Stadtteil in Bezirk order,
  each Bezirk followed by its total row (Bezirk Eimsbüttel named like Stadtteil Eimsbüttel, Bezirk Harburg like
  Stadtteil Harburg), "Hamburg" at the end; headers with "(Dez 2017)" and words broken for print
  ("Migrations-hintergrund", "Sozialversicherungs-pflichtig"); the Stadtteil column has no header.
- ``berlin_block``: Amt für Statistik Berlin-Brandenburg, "Einwohnerinnen und Einwohner im Land Berlin am
  31.12.2017 nach Planungsräumen" / the Monitoring Soziale Stadtentwicklung tables: a title row, group headers
  merged over several columns ("Bevölkerung und Haushalte 31.12.2017", "Arbeitsmarkt"), a row of indicator names,
  a row of long descriptions, the "Planungsraum" header merged over the three header rows.
- ``ruhr_saldo``: Stadt Gelsenkirchen / Stadt Dortmund "Sozialbericht" / "Jahresbericht Bevölkerung" tables
  "Wanderungssaldo nach Stadtteilen": "Jahr" merged over the year columns, the years in the row below,
  negative balances, "." (suppressed) and "–" (nothing) marks.

Areas and catalogue are a made-up city ("Hamburg", Bezirke and Stadtteile with invented ids); nothing of the demo.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from quartier import access, db, ingest
from quartier.ingest.match import Matcher
from tests.unit.ingest_files import xlsx

EDITOR = access.Actor("pruefer", access.EDITOR)
AREAS = [("0101", "Hamburg-Altstadt", "mitte"), ("0108", "St. Pauli", "mitte"), ("0201", "Altona-Altstadt", "altona"),
         ("0202", "Altona-Nord", "altona"), ("0203", "Ottensen", "altona"), ("0301", "Eimsbüttel", "eimsb"),
         ("0302", "Rotherbaum", "eimsb"), ("0303", "Harvestehude", "eimsb"), ("0305", "Hoheluft-West", "eimsb"),
         ("0701", "Harburg", "harburg"), ("0702", "Heimfeld", "harburg")]
DISTRICTS = [("mitte", 1, "Hamburg-Mitte"), ("altona", 2, "Altona"), ("eimsb", 3, "Eimsbüttel"), ("harburg", 7, "Harburg")]
INDICATORS = [  # id, name, einheit, min, definition
    ("bev", "Bevölkerung", "Anzahl", 0, "Einwohnerinnen und Einwohner mit Hauptwohnsitz"),
    ("kinder", "Unter 18-Jährige", "Anzahl", 0, "Anzahl der Kinder und Jugendlichen unter 18 Jahren"),
    ("kinder_anteil", "Anteil der unter 18-Jährigen", "%", 0, None),
    ("migration", "Bevölkerung mit Migrationshintergrund", "Anzahl", 0, None),
    ("svb", "Sozialversicherungspflichtig Beschäftigte", "Anzahl", 0, None),
    ("arbeitslose", "Arbeitslose", "Anzahl", 0, "Arbeitslose nach SGB II und SGB III"),
    ("saldo", "Wanderungssaldo", "Anzahl", -100000, "Zuzüge minus Fortzüge"),
]


@pytest.fixture
def city(empty_con):
    con = empty_con
    with db.transaction(con) as cur:
        db.set_setting(cur, "stadt", "Hamburg")
        for bid, nr, name in DISTRICTS:
            cur.execute("INSERT INTO stadtbezirk (id, nr, name) VALUES (?, ?, ?)", [bid, nr, name])
        for sid, name, bid in AREAS:
            cur.execute("INSERT INTO sozialraum (id, name, bezirk_id, geometry) VALUES (?, ?, ?, '{}')", [sid, name, bid])
        for k, (iid, name, unit, lo, definition) in enumerate(INDICATORS):
            cur.execute("INSERT INTO indikator (id, name, einheit, min_wert, definition, lieferant, sortierung) "
                        "VALUES (?, ?, ?, ?, ?, 'Statistikamt', ?)", [iid, name, unit, lo, definition, k])
    return con


def analyse(con, path, **kw):
    return ingest.analyse_file(con, path.read_bytes(), path.name, **kw)


def val(fa, iid, sid, year=None):
    v = fa.values[(fa.values["indikator_id"] == iid) & (fa.values["sozialraum_id"] == sid)]
    if year is not None:
        v = v[v["jahr"] == year]
    assert len(v) == 1, (iid, sid, v)
    return v.iloc[0]


def hamburg_profile(path, wrong_total=False):
    head = [None, "Bevölkerung (Dez 2017)", "Unter 18-Jährige (Dez 2017)", "Bevölkerung mit Migrations-hintergrund",
            "Sozialversicherungs-\npflichtig Beschäftigte (Juni 2017)"]
    body = [["Hamburg-Altstadt", 2396, 260, 800, 1000], ["St. Pauli", 22282, 2730, 7000, 10000],
            ["Bezirk Hamburg-Mitte", 24678, 2990, 7800, 11000],
            ["Altona-Altstadt", 29187, 4557, 10000, 12000], ["Altona-Nord", 23289, 3562, 8000, 9000],
            ["Ottensen", 35394, 5634, 9000, 15000], ["Altona", 87870, 13753, 27000, 36000],
            ["Eimsbüttel", 57155, 8137, 15000, 22000], ["Rotherbaum", 16276, 2002, 5000, 7000],
            ["Harvestehude", 17787, 2723, 4000, 7500], ["Hoheluft-West", 13388, 1690, 3000, 6000],
            ["Eimsbüttel", 104606 + (1000 if wrong_total else 0), 14552, 27000, 42500],
            ["Harburg", 25970, 4113, 14000, 8000], ["Heimfeld", 22159, 3397, 8000, 7000], ["Harburg", 48129, 7510, 22000, 15000],
            ["Hamburg", 265283, 38805, 83800, 104500]]
    rows = [["Hamburger Stadtteil-Profile Berichtsjahr 2017"], ["Statistikamt Nord"], [], head] + body
    return xlsx(path, {"Stadtteil-Profile": rows})


def test_hamburg_profile_totals_named_like_areas_never_overwrite_areas(city, tmp_path):
    fa = analyse(city, hamburg_profile(tmp_path / "profile.xlsx"))
    assert not fa.errors, fa.findings_frame().to_string()
    p = fa.plans[0]
    assert p.area_col == 0 and p.columns[0].header == "" and p.columns[0].role == "sozialraum"  # no header: by content
    assert val(fa, "bev", "0301")["wert"] == 57155      # Stadtteil Eimsbüttel, not the Bezirk total 104606
    assert val(fa, "bev", "0701")["wert"] == 25970      # Stadtteil Harburg, not the Bezirk total
    assert len(fa.values[fa.values["indikator_id"] == "bev"]) == len(AREAS)
    info = " ".join(f.message for f in fa.infos if f.rule == "summenzeile")
    assert "5 Summenzeile(n)" in info and "Name kommt schon weiter oben vor" in info
    assert not any(f.rule == "summe_abweichend" for f in fa.findings)
    assert all(s["text"] not in ("Hamburg", "Altona") for s in fa.suggestions)


def test_total_named_like_an_area_is_checked_against_the_sum(city, tmp_path):
    fa = analyse(city, hamburg_profile(tmp_path / "profile.xlsx", wrong_total=True))
    bad = [f for f in fa.warnings if f.rule == "summe_abweichend"]
    assert len(bad) == 1 and "105.606" in bad[0].message and "104.606" in bad[0].message and bad[0].cell == "B16"


def test_years_per_column_from_own_header_and_words_broken_for_print(city, tmp_path):
    fa = analyse(city, hamburg_profile(tmp_path / "profile.xlsx"))
    cols = {c.letter: c for c in fa.plans[0].columns}
    assert (cols["B"].indikator_id, cols["B"].jahr, cols["B"].jahr_quelle) == ("bev", 2017, "spaltenkopf")
    assert (cols["E"].indikator_id, cols["E"].jahr) == ("svb", 2017)
    assert cols["D"].header == "Bevölkerung mit Migrationshintergrund" and cols["D"].indikator_id == "migration"
    assert cols["E"].header.startswith("Sozialversicherungspflichtig Beschäftigte")
    assert (cols["D"].jahr, fa.plans[0].jahr, fa.plans[0].jahr_quelle) == (None, 2017, "titel")
    assert set(fa.values["jahr"]) == {2017}


def berlin_block(path):
    rows = [
        ["Tabelle 3: Einwohnerinnen und Einwohner und Arbeitsmarkt nach Planungsräumen"],
        ["Planungsraum", "Bevölkerung und Haushalte 31.12.2017", None, "Arbeitsmarkt", None],
        [None, "Bevölkerung", "Kinder u18", "Arbeitslose (Juni 2018)", "Anteil u18"],
        [None, "Einwohnerinnen und Einwohner mit Hauptwohnsitz", "Anzahl der Kinder und Jugendlichen unter 18 Jahren",
         "Arbeitslose nach SGB II und SGB III", "in %"],
        ["Hamburg-Altstadt", 2396, 260, 50, 10.9], ["St. Pauli", 22282, 2730, 900, 12.3], ["Ottensen", 35394, 5634, ".", "–"],
    ]
    return xlsx(path, {"T3": rows}, merged={"T3": ["A2:A4", "B2:C2", "D2:E2"]})


def test_berlin_header_block_group_headers_descriptions_and_year_sources(city, tmp_path):
    fa = analyse(city, berlin_block(tmp_path / "berlin.xlsx"))
    p = fa.plans[0]
    assert (p.header_row, p.header_rows, p.first_data_row) == (1, 3, 4)
    cols = {c.letter: c for c in p.columns}
    assert cols["A"].role == "sozialraum" and cols["A"].header == "Planungsraum"   # merged A2:A4 stays in the editor
    assert (cols["B"].indikator_id, cols["B"].indikator_quelle, cols["B"].jahr, cols["B"].jahr_quelle) == \
        ("bev", "name", 2017, "gruppenkopf")
    assert (cols["C"].indikator_id, cols["C"].indikator_quelle) == ("kinder", "beschreibung")
    assert (cols["D"].indikator_id, cols["D"].jahr, cols["D"].jahr_quelle) == ("arbeitslose", 2018, "spaltenkopf")
    assert cols["E"].indikator_id is None   # "Anteil u18" is no catalogue name: reported, not guessed
    assert val(fa, "kinder", "0108", 2017)["wert"] == 2730
    assert val(fa, "arbeitslose", "0101", 2018)["wert"] == 50
    o = val(fa, "arbeitslose", "0203", 2018)
    assert bool(o["gesperrt"]) and np.isnan(o["wert"])   # "." suppressed, never 0


def ruhr_saldo(path, rows_extra=()):
    rows = [["Wanderungssaldo nach Sozialräumen"], ["Sozialraum", "Jahr", None, None], [None, 2023, 2024, 2025],
            ["Altona-Nord", -35, 0, "."], ["Ottensen", 120, "–", -4], ["Heimfeld", 12, 14, 16], *rows_extra]
    return xlsx(path, {"Saldo": rows}, merged={"Saldo": ["B2:D2", "A2:A3"]})


def test_ruhr_wide_by_year_jahr_over_years_signed_counts_and_marks(city, tmp_path):
    fa = analyse(city, ruhr_saldo(tmp_path / "saldo.xlsx"))
    assert not fa.errors, fa.findings_frame().to_string()
    p = fa.plans[0]
    assert p.layout == "breit_jahr" and p.indikator_id == "saldo" and [c.jahr for c in p.columns[1:]] == [2023, 2024, 2025]
    assert val(fa, "saldo", "0202", 2023)["wert"] == -35                       # a negative balance is allowed
    assert val(fa, "saldo", "0202", 2024)["wert"] == 0                         # a real 0 stays 0
    assert bool(val(fa, "saldo", "0202", 2025)["gesperrt"])                    # "." suppressed
    assert fa.values[(fa.values["sozialraum_id"] == "0203") & (fa.values["jahr"] == 2024)].empty  # "–" nothing, not 0


def test_negative_count_is_an_error_where_the_minimum_is_zero(city, tmp_path):
    rows = [["Einwohner nach Sozialräumen 2017"], ["Gebiet", "Bevölkerung"], ["Altona-Nord", -3], ["Ottensen", 5]]
    fa = analyse(city, xlsx(tmp_path / "neg.xlsx", {"T": rows}))
    assert [f.cell for f in fa.errors if f.rule == "negative_anzahl"] == ["B3"]


def test_suggestions_never_for_city_district_or_bare_number(city):
    m = Matcher(city)
    assert m.suggest("sozialraum", "Hamburg") is None          # not "Harburg"
    assert m.suggest("sozialraum", "Altona") is None           # not "Altona-Nord"
    assert m.suggest("sozialraum", "2305") is None             # not id 0305
    assert m.suggest("sozialraum", 2305) is None
    assert m.suggest("sozialraum", "Rotherbaumm") == "0302"     # a real typo still gets its suggestion


def test_doppelt_names_the_row_that_looks_like_a_total(city, tmp_path):
    rows = [["Jahr", "Sozialraum", "Kennzahl", "Wert"], [2017, "Ottensen", "bev", 35394], [2017, "Rotherbaum", "bev", 16276],
            [2017, "Ottensen", "bev", 51670]]
    fa = analyse(city, xlsx(tmp_path / "d.xlsx", {"D": rows}))
    dup = [f for f in fa.errors if f.rule == "doppelt"]
    assert len(dup) == 1 and "Zeile 4 sieht wie eine Summenzeile aus" in dup[0].message


def test_long_lists_end_with_und_n_weitere(city, tmp_path):
    rows = [["Jahr", "Sozialraum", "Kennzahl", "Wert"], [2017, "Ottensen", "bev", 35394], [2017, "Rotherbaum", "bev", 16276]]
    fa = analyse(city, xlsx(tmp_path / "l.xlsx", {"D": rows}))
    miss = [f for f in fa.warnings if f.rule == "sozialraeume_fehlen"]
    assert miss and "fehlen 9 von 11" in miss[0].message and "… und 1 weitere" in miss[0].message  # 8 shown


def test_second_confirmation_before_an_alias_is_stored(city, tmp_path):
    rows = [["Einwohner 2017"], ["Gebiet", "Bevölkerung"], ["Rotherbaumm", 5], ["Ottensen", 6], ["Heimfeld", 7]]
    path = xlsx(tmp_path / "a.xlsx", {"T": rows})
    key = ("sozialraum", "Rotherbaumm")
    fa = analyse(city, path, accepted={key: "0302"})
    ingest.commit(city, fa, EDITOR, confirm_warnings=True)
    assert city.execute("SELECT count(*) FROM alias").fetchone()[0] == 0


def test_remembered_mapping_applies_to_next_years_file(city, tmp_path):
    def profile(year, path):
        rows = [[f"Profile {year}"], [], ["Stadtteil", f"Minderjährige (Dez {year})"], ["Ottensen", 10], ["Heimfeld", 20]]
        return xlsx(path, {"Tabelle": rows})

    p17 = profile(2017, tmp_path / "p17.xlsx")
    fa = analyse(city, p17, lieferant="Statistikamt")
    plan = fa.plans[0]
    col = next(c for c in plan.columns if c.letter == "B")
    assert col.indikator_id is None and col.jahr == 2017
    col.indikator_id, col.role = "kinder", "wert"
    fa = analyse(city, p17, lieferant="Statistikamt", plans={"Tabelle": plan})
    ingest.commit(city, fa, EDITOR, confirm_warnings=True, lieferant="Statistikamt")
    fa18 = analyse(city, profile(2018, tmp_path / "p18.xlsx"), lieferant="Statistikamt")
    assert not fa18.errors, fa18.findings_frame().to_string()
    assert val(fa18, "kinder", "0702", 2018)["wert"] == 20   # same column + indicator; the year read from the new header


# --------------------------------------------------------------------- the command line


def test_show_mapping_json_and_round_trip(city, tmp_path, cli):
    dbp = tmp_path / "empty.duckdb"
    city.close()
    path = berlin_block(tmp_path / "berlin.xlsx")
    r = cli("import", str(path), "--show-mapping", "--json", "--db", dbp)
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    sheet = plan["sheets"][0]
    assert (sheet["header_rows"], sheet["first_data_row"], sheet["area_column"]) == ([2, 3, 4], 5, "A")
    b = next(c for c in sheet["columns"] if c["column"] == "B")
    assert (b["indicator"], b["indicator_source"], b["year"], b["year_source"], b["role"]) == \
        ("bev", "name", 2017, "gruppenkopf", "wert")
    pf = tmp_path / "plan.json"
    pf.write_text(r.stdout, encoding="utf-8")
    detected = cli("import", str(path), "--dry-run", "--json", "--db", dbp)
    applied = cli("import", str(path), "--dry-run", "--json", "--mapping", pf, "--db", dbp)
    assert json.loads(detected.stdout)["rows"] == json.loads(applied.stdout)["rows"]
    again = cli("import", str(path), "--show-mapping", "--json", "--mapping", pf, "--db", dbp)
    assert json.loads(again.stdout)["sheets"][0]["columns"] == [
        {**c} for c in sheet["columns"]]
    # a corrected plan: column E is the share of minors
    next(c for c in sheet["columns"] if c["column"] == "E").update(indicator="kinder_anteil", role="wert", year=2017)
    pf.write_text(json.dumps(plan), encoding="utf-8")
    fixed = cli("import", str(path), "--dry-run", "--json", "--mapping", pf, "--db", dbp)
    assert json.loads(fixed.stdout)["rows"]["new"] == json.loads(detected.stdout)["rows"]["new"] + 2


@pytest.mark.parametrize("change, word", [({"spalte": "B"}, "unbekannte Angabe"), ({"column": "Z"}, "gibt es im Blatt nicht")])
def test_plan_with_unknown_key_or_column_exits_2(city, tmp_path, cli, change, word):
    dbp = tmp_path / "empty.duckdb"
    city.close()
    path = berlin_block(tmp_path / "berlin.xlsx")
    plan = json.loads(cli("import", str(path), "--show-mapping", "--json", "--db", dbp).stdout)
    plan["sheets"][0]["columns"][1].update(change)
    pf = tmp_path / "plan.json"
    pf.write_text(json.dumps(plan), encoding="utf-8")
    r = cli("import", str(path), "--mapping", pf, "--db", dbp)
    assert r.returncode == 2 and word in r.stderr and r.stdout == ""


def test_plan_confirmed_on_the_page_is_used_by_the_cli_with_lieferant(city, tmp_path, cli):
    dbp = tmp_path / "empty.duckdb"
    rows = [["Tab. 1"], ["Hinweis"], ["Anmerkung"], ["Gebiet", "Zahl A"], ["Ottensen", 10], ["Heimfeld", 20]]
    path = xlsx(tmp_path / "x2017.xlsx", {"Daten 2017": rows})
    fa = analyse(city, path, lieferant="Amt X")
    plan = fa.plans[0]
    col = next(c for c in plan.columns if c.letter == "B")
    col.indikator_id, col.role = "bev", "wert"
    fa = analyse(city, path, lieferant="Amt X", plans={"Daten 2017": plan})
    ingest.commit(city, fa, EDITOR, confirm_warnings=True, lieferant="Amt X")
    city.close()
    path18 = xlsx(tmp_path / "x2018.xlsx", {"Daten 2018": rows[:4] + [["Ottensen", 11], ["Heimfeld", 21]]})
    without = cli("import", str(path18), "--dry-run", "--json", "--db", dbp)
    assert json.loads(without.stdout)["status"] == "rejected"
    r = cli("import", str(path18), "--dry-run", "--json", "--lieferant", "Amt X", "--db", dbp)
    assert json.loads(r.stdout)["status"] == "dry-run", r.stdout


# --------------------------------------------------------------------- rules not covered above (each fails with the rule removed)


def test_year_from_the_sheet_name_wins_over_the_title(city, tmp_path):
    rows = [["Bevölkerung nach Stadtteilen, Bericht 2020"], [], ["Gebiet", "Bevölkerung"], ["Ottensen", 35394], ["Heimfeld", 22159]]
    fa = analyse(city, xlsx(tmp_path / "t.xlsx", {"Stand 2019": rows}))
    assert not fa.errors, fa.findings_frame().to_string()
    assert (fa.plans[0].jahr, fa.plans[0].jahr_quelle) == (2019, "blattname")
    assert set(fa.values["jahr"]) == {2019}


def test_own_header_year_wins_over_the_group_header(city, tmp_path):
    rows = [["Tabelle 1"], ["Stadtteil", "Stand 31.12.2017", None], [None, "Arbeitslose (Juni 2018)", "Bevölkerung"],
            ["Ottensen", 900, 35394], ["Heimfeld", 700, 22159]]
    fa = analyse(city, xlsx(tmp_path / "g.xlsx", {"T": rows}, merged={"T": ["B2:C2", "A2:A3"]}))
    assert not fa.errors, fa.findings_frame().to_string()
    cols = {c.letter: c for c in fa.plans[0].columns}
    assert (cols["B"].jahr, cols["B"].jahr_quelle) == (2018, "spaltenkopf")
    assert (cols["C"].jahr, cols["C"].jahr_quelle) == (2017, "gruppenkopf")
    assert val(fa, "arbeitslose", "0203", 2018)["wert"] == 900


def test_district_and_city_totals_found_by_name_when_sums_are_off(city, tmp_path):
    """Totals whose values do not equal the sum above (an area missing, rounded) are still totals by their name."""
    rows = [["Bevölkerung 2017"], [], ["Stadtteil", "Bevölkerung"], ["Altona-Altstadt", 29187], ["Ottensen", 35394],
            ["Altona", 90000], ["Heimfeld", 22159], ["Hamburg", 1900000]]
    fa = analyse(city, xlsx(tmp_path / "n.xlsx", {"T": rows}))
    assert not fa.errors, fa.findings_frame().to_string()
    assert sorted(fa.values["sozialraum_id"]) == ["0201", "0203", "0702"]
    info = " ".join(f.message for f in fa.infos if f.rule == "summenzeile")
    assert "2 Summenzeile(n)" in info and "Name eines Stadtbezirks" in info and "Name der Stadt" in info
    assert not fa.suggestions


def test_misspelt_first_area_is_data_not_header(city, tmp_path):
    rows = [["Bevölkerung 2017"], [], ["Gebiet", "Bevölkerung"], ["Hamburg-Altstat", 2396], ["St. Pauli", 22282],
            ["Ottensen", 35394]]
    fa = analyse(city, xlsx(tmp_path / "m.xlsx", {"T": rows}))
    p = fa.plans[0]
    assert (p.header_row, p.first_data_row) == (2, 3)
    unknown = [f for f in fa.errors if f.rule == "unbekannt_sozialraum"]
    assert [f.cell for f in unknown] == ["A4"] and "Hamburg-Altstadt" in unknown[0].message


def test_total_by_its_word_summe_or_insgesamt(city, tmp_path):
    rows = [["Bevölkerung 2017"], [], ["Stadtteil", "Bevölkerung"], ["Ottensen", 35394], ["Heimfeld", 22159],
            ["Summe", 60000], ["Insgesamt", 61000]]
    fa = analyse(city, xlsx(tmp_path / "s.xlsx", {"T": rows}))
    assert not fa.errors, fa.findings_frame().to_string()
    assert sorted(fa.values["sozialraum_id"]) == ["0203", "0702"]
    assert "als Summe bezeichnet" in " ".join(f.message for f in fa.infos if f.rule == "summenzeile")
