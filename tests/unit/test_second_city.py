"""A second city (tests/city2.py: own GeoJSON, own catalogue, no axis, no index method), set up with the
command line, looks like its own product in the report; report maps label only what fits."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import shapely

from quartier import db
from quartier.access import PUBLIC, SYSTEM
from quartier.need import method as index_method
from quartier.reports import scope as report_scope
from quartier.reports import svgmap
from quartier.values import indicators, overview, series
from tests import city2

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils fehlt")


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_city_shares_no_id_with_the_demo(city2_db, demo_db):
    mine, demo = db.connect(city2_db, read_only=True), db.connect(demo_db, read_only=True)
    for table in ("sozialraum", "stadtbezirk", "indikator"):
        ids = {r[0] for r in mine.execute(f"SELECT id FROM {table}").fetchall()}  # noqa: S608 - fixed table names
        assert ids and not ids & {r[0] for r in demo.execute(f"SELECT id FROM {table}").fetchall()}, table  # noqa: S608
    assert mine.execute("SELECT count(*) FROM achse").fetchone()[0] == 0
    assert mine.execute("SELECT count(*) FROM sozialraum").fetchone()[0] == 40
    assert db.get_setting(mine, "stadt") == city2.CITY
    # the yearbook's district and city totals did not overwrite areas: every area once per year
    n = mine.execute("SELECT count(*), count(DISTINCT sozialraum_id) FROM messwert_aktuell WHERE indikator_id = 'einw'"
                     " AND jahr = 2024").fetchone()
    assert n == (40, 40)


def test_population_and_defaults_come_from_the_catalogue(city2_db):
    con = db.connect(city2_db, read_only=True)
    cat = indicators.catalogue(con)
    assert indicators.population_ids(cat) == ("einw", "kinder")
    assert indicators.default_indicator(con) == "arm_kind" == report_scope.rank_indicator(con)
    pop = overview.latest_population(con)
    assert pop["einwohner"].notna().all() and int(pop["jahr"].max()) == 2024
    ages = series.population(con=con, sozialraum_id="P001", actor=SYSTEM)
    assert list(ages["jahr"]) == list(city2.YEARS) and ages["anteil_u18"].between(5, 30).all()
    # a method without population_indicator counts the catalogue's population
    m = index_method.validate_method({"name": "x", "indicators": [{"id": "arm_kind", "weight": 1}]}, cat)
    assert m.population_indicator == "einw"


@pytest.mark.parametrize(("name", "total", "u18"), [
    ("Einwohnerinnen und Einwohner", True, False), ("Einwohnerzahl", True, False), ("Wohnbevölkerung insgesamt", True, False),
    ("Einwohner unter 18 Jahren", False, True), ("Minderjährige", False, True), ("Bevölkerung mit Migrationshintergrund", False, False),
    ("Anteil der Einwohner über 65", False, False), ("Kinder unter 18 Jahren", False, True),
])
def test_population_words(name, total, u18):
    import pandas as pd

    cat = pd.DataFrame({"id": ["x"], "name": [name], "einheit": ["Anzahl"]})
    assert indicators.population_ids(cat) == ("x" if total else None, "x" if u18 else None)


@needs_poppler
def test_city_report_pdf_is_this_citys(city2_db, tmp_path, cli):
    out = tmp_path / "stadt.pdf"
    r = cli("report", "--stadt", "--out", out, "--db", city2_db)
    assert r.returncode == 0, r.stderr
    text = pdf_text(out)
    flat = re.sub(r"\s+", " ", text)
    assert [w for w in city2.DEMO_WORDS if w in flat] == []
    assert city2.CITY in flat
    for name in ("Kinder in Armutslagen", "Einwohnerzahl"):     # headline figures (leitindikator)
        assert name in flat
    assert re.search(r"Kinder in Armutslagen.{0,80}\d+,\d\s?%", flat)
    # the map's text shows the ranking indicator's values, not "–" for every area
    m = re.search(r"Karte [^:]*: Kinder in Armutslagen 2024 – (.*?)\.\s", flat)
    assert m, flat[:2000]
    values = re.findall(r"\(([^)]*)\)", m.group(1))
    assert len(values) == 40 and sum(v.strip() == "–" for v in values) == 0
    assert "Rangfolge nach „Kinder in Armutslagen“" in flat and "keine Index-Methode" in flat
    assert "keine Achse eingerichtet" in flat


def test_report_map_colours_areas_for_viewers(city2_db):
    con = db.connect(city2_db, read_only=True)
    md = svgmap.map_data(con, report_scope.city_scope(con), actor=PUBLIC)
    assert md.indicator_name.startswith("Kinder in Armutslagen") and md.areas["klasse"].notna().sum() == 40
    assert md.axes == []


# ------------------------------------------------------------------------------------------------
# report map labels: only what fits, never on top of each other


def grid_map(n_side: int, cell_m: float = 300.0, big: int = 0) -> svgmap.MapData:
    """n_side x n_side small squares, plus ``big`` large areas to their right."""
    import pandas as pd

    rows = []
    for i in range(n_side):
        for j in range(n_side):
            rows.append({"id": f"G{i * n_side + j:04d}", "name": f"Gebiet {i}-{j}",
                         "geom": shapely.box(j * cell_m, i * cell_m, (j + 1) * cell_m, (i + 1) * cell_m)})
    side = n_side * cell_m
    for k in range(big):
        rows.append({"id": f"B{k}", "name": f"Großgebiet {k}",
                     "geom": shapely.box(side, k * side / max(big, 1), 2 * side, (k + 1) * side / max(big, 1))})
    df = pd.DataFrame(rows)
    df["bezirk_id"], df["in_scope"], df["klasse"], df["wert_text"] = "x", True, 1, "12,5 %"
    return svgmap.MapData(df, [], (0.0, 0.0, 2 * side, side), ["a", "b", "c", "d"], "Test")


def _tx(md, width=900, height=620, legend_h=70):
    minx, miny, maxx, maxy = md.bounds
    s = min(width / (maxx - minx), (height - legend_h) / (maxy - miny))
    return lambda x, y: ((x - minx) * s, (maxy - y) * s)


def test_hundreds_of_small_areas_are_not_all_labelled_and_labels_never_overlap():
    md = grid_map(20, big=3)                         # 400 small squares + 3 large areas
    placed = svgmap.area_labels(md, _tx(md), label="id")
    texts = [lines[0] for _, _, _, lines in placed]
    assert {"B0", "B1", "B2"} <= set(texts)          # the large areas are labelled
    assert len(placed) < 50                          # most of the 400 are too small for "G0123"
    boxes = [(x - max(map(len, ls)) * fs * svgmap.GLYPH_WIDTH / 2, y - fs,
              x + max(map(len, ls)) * fs * svgmap.GLYPH_WIDTH / 2, y - fs + len(ls) * (fs + 3)) for x, y, fs, ls in placed]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    svg = svgmap.map_svg(md, label="id")
    assert svg.count("G0") < 50 and "zu klein für eine Beschriftung" in svg


def test_a_few_large_areas_are_all_labelled_with_their_names():
    md = grid_map(4)
    placed = svgmap.area_labels(md, _tx(md), label="name")
    assert len(placed) == 16 and all(lines[0].startswith("Gebiet") for _, _, _, lines in placed)
    assert "zu klein" not in svgmap.map_svg(md)


def test_total_row_with_an_unknown_name_is_found_by_its_sums(city2_copy, tmp_path):
    """'Teilraum Nord' is neither an area nor a Stadtbezirk: its counts equal the sum of the rows above, so it is a
    total (found by bench/bench_import.py's yearbook file), not an unknown Sozialraum."""
    from quartier import ingest
    from tests.unit.ingest_files import xlsx

    rows = [["Stadtteil", "Einwohnerzahl", "Kinder unter 18 Jahren"],
            ["Nordviertel 1", 1000, 100], ["Nordviertel 2", 2000, 300], ["Teilraum Nord", 3000, 400]]
    path = xlsx(tmp_path / "teilraum_2025.xlsx", {"2025": rows})
    con = db.connect(city2_copy)
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    assert not fa.errors, [f.message for f in fa.errors]
    assert len(fa.values) == 4 and any("Summe der Zeilen darüber" in f.message for f in fa.infos)
