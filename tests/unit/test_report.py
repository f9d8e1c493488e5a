"""District view data and the PDF report (city, Stadtbezirk, Sozialraum) on the real demo database.

The PDFs are rendered with pdftoppm (pages must exist and not be blank) and read back with pdftotext
(names, figures from the same core functions, umlauts, "Beispieldaten", page numbers, suppression).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from quartier import db
from quartier import format as fmt
from quartier.access import ADMIN, SYSTEM, VIEWER, Actor
from quartier.cli.base import main
from quartier.reports import pdf as report_pdf
from quartier.reports import scope as report_scope
from quartier.reports import summary as report_summary
from quartier.values import indicators, protection

VIEWER_ACTOR = Actor("betrachtung", VIEWER)
ADMIN_ACTOR = Actor("admin", ADMIN, raw_data=True)

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                   reason="poppler-utils fehlt (make test installiert es)")


def pdf_text(path: Path, layout: bool = False) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def page_count(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


# One worker runs the whole module, so that its module fixtures (built reports, imported deliveries) are built once.
pytestmark = pytest.mark.xdist_group("test_report")


@pytest.fixture(scope="module")
def ro(demo_db):
    con = db.connect(demo_db, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def cli_reports(demo_db, ro, tmp_path_factory):
    """The reports the command line writes (``python -m quartier report``, in-process), once for this module:
    {key: (exit code, PDF path, stdout)}. Haspe (with --json) and Wehringhausen also serve as the viewer's
    reports of the PDF tests (the command line builds them with build_pdf for a viewer, the same as the API);
    the district of a value protected for viewers plain and with --rohwerte."""
    out = tmp_path_factory.mktemp("cli")
    bez = _protected_case(ro)[3]
    runs = {"haspe": ["--bezirk", "Haspe", "--json"], "m04": ["--sozialraum", "wehringhausen"],
            "bez": ["--bezirk", bez], "bez_raw": ["--bezirk", bez, "--rohwerte"]}
    done = {}
    for key, args in runs.items():
        path = out / f"{key}.pdf"
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(["report", "--db", str(demo_db), *args, "--out", str(path)])
        done[key] = (code, path, buf.getvalue())
    return done


@pytest.fixture(scope="module")
def pdfs(ro, cli_reports, tmp_path_factory):
    """The viewer's reports of Haspe, Wehringhausen (M04, both from :func:`cli_reports`) and the city (build_pdf)."""
    out = tmp_path_factory.mktemp("berichte")
    report_pdf.build_pdf(ro, report_scope.city_scope(ro), out / "stadt.pdf", actor=VIEWER_ACTOR)
    return {"haspe": cli_reports["haspe"][1], "stadt": out / "stadt.pdf", "m04": cli_reports["m04"][1]}


# ------------------------------------------------------------------------------------ core rules

def test_trend_meaning_follows_direction():
    assert report_summary.trend_meaning(1.2, "higher") == ("↑", "steigt", "ungünstig")
    assert report_summary.trend_meaning(-1.2, "higher") == ("↓", "sinkt", "günstig")
    assert report_summary.trend_meaning(1.2, "lower") == ("↑", "steigt", "günstig")
    assert report_summary.trend_meaning(-0.5, "lower")[2] == "ungünstig"
    assert report_summary.trend_meaning(3.0, None) == ("↑", "steigt", None)
    assert report_summary.trend_meaning(0.01, "higher") == ("→", "unverändert", None)
    assert report_summary.trend_meaning(None, "higher")[2] is None


@pytest.mark.parametrize("key", ["eilpe-dahl", "Eilpe/Dahl", "EILPE DAHL", "eilpe_dahl", "4"])
def test_bezirk_names_are_matched_tolerantly(ro, key):
    s = report_scope.bezirk_scope(ro, key)
    assert s.id == "eilpe-dahl" and set(s.area_ids) == {"E01", "E02"}


def test_unknown_bezirk_lists_valid_choices(ro):
    with pytest.raises(report_scope.ScopeError) as exc:
        report_scope.bezirk_scope(ro, "Atlantis")
    assert "Atlantis" in str(exc.value) and "haspe (Haspe)" in exc.value.valid
    with pytest.raises(report_scope.ScopeError):
        report_scope.sozialraum_scope(ro, "Z99")
    assert report_scope.sozialraum_scope(ro, "wehringhausen").id == "M04"


def test_district_summary_matches_recomputed_figures(ro):
    s = report_summary.district_summary(ro, "haspe", actor=ADMIN_ACTOR)
    head = s.headline.set_index("indikator_id")
    # district SGB II u18 recomputed by hand from numerators and denominators of its Sozialräume
    raw = indicators.current_values(ro, ["sgb2_u18"], actor=SYSTEM)
    y = int(raw["jahr"].max())
    part = raw[(raw["bezirk_id"] == "haspe") & (raw["jahr"] == y)]
    expected = part["zaehler"].sum() / part["nenner"].sum() * 100
    city = raw[raw["jahr"] == y]
    assert head.loc["sgb2_u18", "wert"] == pytest.approx(expected, abs=0.006)
    assert head.loc["sgb2_u18", "stadt"] == pytest.approx(city["zaehler"].sum() / city["nenner"].sum() * 100, abs=0.006)
    assert head.loc["sgb2_u18", "wert_text"] == fmt.value(expected, "%")
    prev = raw[(raw["bezirk_id"] == "haspe") & (raw["jahr"] == y - 1)]
    change = expected - prev["zaehler"].sum() / prev["nenner"].sum() * 100
    assert head.loc["sgb2_u18", "veraenderung"] == pytest.approx(change, abs=0.012)
    assert head.loc["sgb2_u18", "bewertung"] == ("ungünstig" if change > 0 else "günstig")
    # ranking: all four Sozialräume of Haspe, rank 1 has the highest (most need) value
    rk = s.ranking
    assert set(rk["sozialraum_id"]) == {"S01", "S02", "S03", "S04"}
    assert list(rk["wert"]) == sorted(rk["wert"], reverse=True)
    assert list(rk["rang"]) == [1, 2, 3, 4]
    assert "Rangfolge nach" in s.ranking_note
    # development: district, city and the four Sozialräume for every year
    dev = s.development[s.development["indikator_id"] == "sgb2_u18"]
    assert {"Bezirk Haspe", "Gesamtstadt", "Haspe-Zentrum"} <= set(dev["gebiet"])
    assert dev.groupby("gebiet")["jahr"].nunique().min() == raw["jahr"].nunique()


def _protected_case(ro):
    """(indicator, Sozialraum id, name, bezirk, year, raw value text) protected for viewers."""
    raw = indicators.current_values(ro, actor=SYSTEM)
    prot = indicators.current_values(ro, actor=VIEWER_ACTOR)
    m = raw.merge(prot[["indikator_id", "sozialraum_id", "jahr", "gesperrt"]], on=["indikator_id", "sozialraum_id", "jahr"],
                  suffixes=("", "_v"))
    latest = m.groupby("indikator_id")["jahr"].transform("max")
    cand = m[(m["jahr"] == latest) & m["gesperrt_v"] & ~m["gesperrt"] & m["wert"].notna()]
    assert not cand.empty, "Die Demo-Daten sollten mindestens einen geschützten Wert enthalten"
    r = cand.iloc[0]
    unit = indicators.catalogue(ro).set_index("id").loc[r["indikator_id"], "einheit"]
    return r["indikator_id"], r["sozialraum_id"], r["sozialraum"], r["bezirk_id"], int(r["jahr"]), fmt.value(r["wert"], unit)


def test_protected_values_are_never_shown_to_viewers(ro):
    iid, sid, _name, bez, _year, raw_text = _protected_case(ro)
    scope = report_scope.bezirk_scope(ro, bez)
    viewer = report_summary.area_table(ro, scope, actor=VIEWER_ACTOR).set_index("gebiet")
    admin = report_summary.area_table(ro, scope, actor=ADMIN_ACTOR).set_index("gebiet")
    name = indicators.areas(ro).set_index("id").loc[sid, "name"]
    assert admin.loc[name, iid] == raw_text
    assert viewer.loc[name, iid] == fmt.SUPPRESSED
    # district and city totals are those of the protected table (secondary suppression)
    tab = protection.protected_table(ro, [iid], actor=VIEWER_ACTOR)
    y = int(tab["jahr"].max())
    for label, level, ident in ((f"Bezirk {scope.name}", "Stadtbezirk", bez), ("Gesamtstadt", "Stadt", None)):
        cell = tab[(tab["ebene"] == level) & (tab["jahr"] == y)
                   & ((tab["stadtbezirk_id"] == ident) if ident else tab["stadtbezirk_id"].isna())].iloc[0]
        unit = indicators.catalogue(ro).set_index("id").loc[iid, "einheit"]
        assert viewer.loc[label, iid] == fmt.value(cell["wert"], unit, suppressed=bool(cell["gesperrt"]))
    head = report_summary.headline(ro, report_scope.sozialraum_scope(ro, sid), ids=[iid], actor=VIEWER_ACTOR).iloc[0]
    assert head["wert_text"] == fmt.SUPPRESSED and head["veraenderung_text"] == fmt.SUPPRESSED


# ------------------------------------------------------------------------------------------ PDF

@needs_poppler
def test_pdf_pages_render_and_are_not_blank(pdfs, tmp_path):
    for key, path in pdfs.items():
        n = page_count(path)
        assert n >= 5, key
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / key)], check=True)
        pngs = sorted(tmp_path.glob(f"{key}-*.png"))
        assert len(pngs) == n
        for png in pngs:
            img = np.asarray(Image.open(png).convert("L"))
            assert (img < 200).mean() > 0.01, f"{png.name} ist (fast) leer"
        # the map on page 1 is in colour (need classes)
        rgb = np.asarray(Image.open(pngs[0]).convert("RGB")).astype(int)
        assert ((np.abs(rgb[..., 0] - rgb[..., 2]) > 60).mean()) > 0.02


@needs_poppler
def test_district_pdf_text(pdfs, ro):
    path = pdfs["haspe"]
    text = pdf_text(path)
    n = page_count(path)
    assert "Bezirksbericht Haspe" in text and "Stadt Hagen" in text
    for name in indicators.areas(ro).query("bezirk_id == 'haspe'")["name"]:
        assert name in text
    # figures shown on the page for the same selection, formatted by the same core function
    s = report_summary.district_summary(ro, "haspe", actor=VIEWER_ACTOR)
    for r in s.headline.to_dict("records"):
        assert r["wert_text"] in text and r["stadt_text"] in text, r["name"]
        assert r["trend_text"] in text
    for r in s.ranking.to_dict("records"):
        assert f"{r['rang_stadt_text']}" in text and r["wert_text"] in text
    # umlauts, demo notice on every page, page numbers, data status, sources, annex
    assert "Kennzahlen im Überblick" in text and "Sozialräume nach Handlungsbedarf" in text
    assert "Schulabgänge ohne Abschluss" in text
    assert "Sozialr?ume" not in text and "Ã" not in text
    assert text.count("Beispieldaten – erfundene") == n
    assert "Seite 1 von" in text and f"Seite {n} von {n}" in text
    assert "Letzte Lieferung je Lieferant" in text and "Jobcenter" in text
    assert "GeoBasis-DE" in text
    assert "Anhang: Indikatoren und Definitionen" in text
    assert "Die B 7 verläuft durch" in text
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert "Bezirksbericht Haspe" in info and "Tagged:          yes" in info


@needs_poppler
def test_fonts_are_embedded(pdfs):
    rows = subprocess.run(["pdffonts", str(pdfs["haspe"])], check=True, capture_output=True, text=True).stdout.splitlines()[2:]
    assert rows
    for row in rows:
        assert row.split()[-5] == "yes", row  # column "emb"


@needs_poppler
def test_city_and_sozialraum_pdfs(pdfs, ro):
    city = pdf_text(pdfs["stadt"])
    assert "Stadtbericht Hagen" in city
    for name in indicators.bezirke(ro)["name"]:
        assert f"Bezirk {name}" in city
    head = report_summary.headline(ro, report_scope.city_scope(ro), actor=VIEWER_ACTOR)
    for r in head.to_dict("records"):
        assert r["wert_text"] in city
    soz = pdf_text(pdfs["m04"])
    assert "Sozialraumbericht Wehringhausen" in soz and "Bezirk Hagen-Mitte" in soz
    head = report_summary.headline(ro, report_scope.sozialraum_scope(ro, "M04"), actor=VIEWER_ACTOR)
    for r in head.to_dict("records"):
        assert r["wert_text"] in soz and r["bezirk_text"] in soz


@needs_poppler
def test_pdf_hides_protected_value_for_viewer_only(ro, cli_reports, tmp_path):
    iid, sid, name, bez, _year, raw_text = _protected_case(ro)
    scope = report_scope.bezirk_scope(ro, bez)
    v = cli_reports["bez"][1]  # the viewer's report of that district (the command line's, built for a viewer)
    a = tmp_path / "admin.pdf"
    report_pdf.build_pdf(ro, scope, a, actor=ADMIN_ACTOR)

    def rows(path):
        return [ln for ln in pdf_text(path, layout=True).splitlines() if ln.strip().startswith(f"{sid} {name}")]

    assert pdf_text(a).count(report_pdf.INTERNAL_NOTE) == page_count(a)
    assert report_pdf.INTERNAL_NOTE not in pdf_text(v)
    admin_rows, viewer_rows = rows(a), rows(v)
    assert admin_rows and len(admin_rows) == len(viewer_rows)
    admin_hits = sum(r.count(raw_text) for r in admin_rows)
    viewer_hits = sum(r.count(raw_text) for r in viewer_rows)
    assert admin_hits - viewer_hits >= 1
    assert any(fmt.SUPPRESSED in r for r in viewer_rows)


def _add_recommendations(con):
    if not report_summary._table_exists(con, "empfehlung"):
        pytest.skip("Katalog der Handlungsempfehlungen (Migration 004) nicht vorhanden")
    cur = con.cursor()
    cur.execute("DELETE FROM empfehlung_verlauf")
    cur.execute("DELETE FROM empfehlung_sozialraum")
    cur.execute("DELETE FROM empfehlung")
    rows = [
        ("HE-T1", "Sprachförderung in Kitas ausbauen", "Sprache", "Sozialraum", "in Umsetzung", True, "2020-01-01", ["S01", "S02"]),
        ("HE-T2", "Bewegungsangebote für Grundschüler", "Bewegung", "Sozialraum", "offen", True, "2099-01-01", ["S03"]),
        ("HE-T3", "Interne Abstimmung Jobcenter", "Vernetzung", "Sozialraum", "in Planung", False, None, ["S01"]),
        ("HE-T4", "Familienbüro Wehringhausen", "Vernetzung", "Sozialraum", "umgesetzt", True, "2020-01-01", ["M04"]),
    ]
    for rid, titel, feld, ebene, status, public, ende, areas in rows:
        cur.execute("INSERT INTO empfehlung (id, titel, handlungsfeld, ebene, status, oeffentlich, ende_geplant, federfuehrung)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'Jugendamt')", [rid, titel, feld, ebene, status, public, ende])
        for a in areas:
            cur.execute("INSERT INTO empfehlung_sozialraum VALUES (?, ?)", [rid, a])
    cur.execute("INSERT INTO empfehlung_verlauf (empfehlung_id, feld, alt, neu, begruendung, benutzer, zeitpunkt)"
                " VALUES ('HE-T1', 'status', 'offen', 'in Umsetzung', 'Start', 'test', '2026-03-10 10:00:00')")
    cur.execute("INSERT INTO empfehlung_verlauf (empfehlung_id, feld, alt, neu, begruendung, benutzer, zeitpunkt)"
                " VALUES ('HE-T2', 'status', NULL, 'offen', 'Anlage', 'test', '2025-01-10 10:00:00')")


@needs_poppler
def test_recommendations_with_changes_since_meeting(con, tmp_path):
    _add_recommendations(con)
    scope = report_scope.bezirk_scope(con, "haspe")
    recs, note = report_summary.recommendations(con, scope, since=dt.date(2026, 1, 1), actor=VIEWER_ACTOR)
    assert note is None
    assert list(recs["id"]) == ["HE-T1", "HE-T2"]          # internal HE-T3 hidden, M04 is elsewhere
    r = recs.set_index("id")
    assert bool(r.loc["HE-T1", "geaendert_seit"]) and not bool(r.loc["HE-T2", "geaendert_seit"])
    assert "offen → in Umsetzung" in r.loc["HE-T1", "aenderungen"]
    assert bool(r.loc["HE-T1", "ueberfaellig"]) and not bool(r.loc["HE-T2", "ueberfaellig"])
    staff, _ = report_summary.recommendations(con, scope, actor=ADMIN_ACTOR)
    assert "HE-T3" in set(staff["id"])
    out = tmp_path / "haspe.pdf"
    report_pdf.build_pdf(con, scope, out, since=dt.date(2026, 1, 1), actor=VIEWER_ACTOR)
    text = pdf_text(out)
    assert "Sprachförderung in Kitas ausbauen" in text and "Familienbüro" not in text
    assert "Interne Abstimmung" not in text
    assert "1 seit dem 01.01.2026 geändert" in text


@needs_poppler
def test_report_without_values_and_without_areas(con, empty_con, tmp_path):
    con.cursor().execute("DELETE FROM messwert")
    out = tmp_path / "leer.pdf"
    report_pdf.build_pdf(con, report_scope.bezirk_scope(con, "haspe"), out, actor=VIEWER_ACTOR)
    text = pdf_text(out)
    assert "Für dieses Gebiet liegen noch keine Kennzahlen vor." in text
    assert "Noch keine Werte für eine Rangfolge" in text and "Noch keine Kennzahlen geliefert." in text
    assert not re.search(r"\b(None|nan|NaN)\b", text)
    with pytest.raises(report_scope.ReportError, match="keine Sozialräume"):
        report_pdf.build_pdf(empty_con, report_scope.city_scope(empty_con), tmp_path / "x.pdf", actor=VIEWER_ACTOR)


def test_missing_font_gives_german_error(ro, tmp_path, monkeypatch):
    monkeypatch.setattr(report_pdf, "FONT_DIR", tmp_path)
    with pytest.raises(report_scope.ReportError, match="fonts-dejavu-core"):
        report_pdf.build_pdf(ro, report_scope.bezirk_scope(ro, "haspe"), tmp_path / "x.pdf", actor=VIEWER_ACTOR)
    assert not (tmp_path / "x.pdf").exists()


# ------------------------------------------------------------------------------------------ CLI

@needs_poppler
def test_cli_report(cli_reports):
    code, out, stdout = cli_reports["haspe"]  # report --bezirk Haspe --json
    assert code == 0
    assert out.exists() and out.read_bytes()[:5] == b"%PDF-"
    assert '"scope": "bezirk"' in stdout
    assert "Bezirksbericht Haspe" in pdf_text(out)

    code, out2, _ = cli_reports["m04"]  # report --sozialraum wehringhausen
    assert code == 0
    assert "Sozialraumbericht Wehringhausen" in pdf_text(out2)


def test_cli_report_usage_errors(demo_db, tmp_path, capsys):
    out = tmp_path / "x.pdf"
    assert main(["report", "--db", str(demo_db), "--bezirk", "Atlantis", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Atlantis" in err and "haspe (Haspe)" in err and "eilpe-dahl (Eilpe/Dahl)" in err
    assert not out.exists()
    assert main(["report", "--db", str(demo_db), "--stadt", "--out", str(tmp_path / "x.docx")]) == 2
    assert ".pdf" in capsys.readouterr().err
    assert main(["report", "--db", str(demo_db), "--stadt", "--out", str(out), "--seit", "morgen"]) == 2
    assert "TT.MM.JJJJ" in capsys.readouterr().err
    assert main(["report", "--db", str(tmp_path / "fehlt.duckdb"), "--stadt", "--out", str(out)]) == 2
    with pytest.raises(SystemExit) as exc:  # neither --bezirk nor --stadt nor --sozialraum
        main(["report", "--db", str(demo_db), "--out", str(out)])
    assert exc.value.code == 2


def test_cli_report_protects_small_numbers_by_default(cli_reports, ro):
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils fehlt")
    iid, sid, name, bez, _year, raw_text = _protected_case(ro)
    (code, plain, _), (code_raw, raw, _) = cli_reports["bez"], cli_reports["bez_raw"]  # --bezirk BEZ [--rohwerte]
    assert code == 0 and code_raw == 0

    def hits(p):
        return sum(ln.count(raw_text) for ln in pdf_text(p, layout=True).splitlines()
                   if ln.strip().startswith(f"{sid} {name}"))

    assert hits(raw) - hits(plain) >= 1


@pytest.mark.parametrize("cells", [1, report_scope.AREA_CELLS_PER_CALL], ids=["one-at-a-time", "grouped"])
@pytest.mark.parametrize("actor", [VIEWER_ACTOR, ADMIN_ACTOR], ids=["viewer", "admin"])
def test_scope_values_keep_exactly_the_cells_of_the_whole_table(ro, actor, cells, monkeypatch):
    """The district view loads the indicators in groups (one at a time in a large city) and keeps only its
    own areas: every kept cell (value, protection) is the cell of the whole protected table, no total is
    lost, and the rows come per indicator in the order asked for."""
    monkeypatch.setattr(report_scope, "AREA_CELLS_PER_CALL", cells)
    scope = report_scope.bezirk_scope(ro, "Haspe")
    rank = report_scope.rank_indicator(ro)
    # the page's indicators plus one with small counts, so that protected cells are covered
    ids = [i for i in dict.fromkeys(report_summary.headline_ids(ro) + report_summary.chart_ids(ro) + [rank, "ohne_abschluss"])]
    whole = report_scope.protected_values(ro, ids, actor=actor)
    part = report_scope.scope_values(ro, ids, scope, actor=actor)
    keys = ["ebene", "indikator_id", "jahr", "stadtbezirk_id", "sozialraum_id"]
    expected = whole[(whole["ebene"] != report_scope.AREA) | whole["sozialraum_id"].isin(scope.area_ids)
                     | (whole["indikator_id"] == rank)]
    a = expected.sort_values(keys).reset_index(drop=True)
    b = part.sort_values(keys).reset_index(drop=True)
    assert len(b) < len(whole) and len(a) == len(b)
    for col in ["wert", "zaehler", "nenner", "gesperrt"]:
        assert a[col].fillna(-1).tolist() == b[col].fillna(-1).tolist(), col
    if actor is VIEWER_ACTOR:
        assert b["gesperrt"].any()  # the demo has protected cells: the comparison covers them
    # the district view built from it equals the one built from the whole table
    full = report_summary.headline(ro, scope, values=whole, actor=actor)
    assert report_summary.headline(ro, scope, values=part, actor=actor).equals(full)
    assert list(part["indikator_id"].drop_duplicates()) == ids


def test_need_and_reports_do_not_import_the_demo():
    import grimp

    graph = grimp.build_graph("quartier")
    for pkg in ("quartier.need", "quartier.reports"):
        mods = {pkg} | graph.find_descendants(pkg)
        bad = [(m, i) for m in mods for i in graph.find_modules_directly_imported_by(m) if i.startswith("quartier.demo")]
        assert bad == [], bad


# ------------------------------------------------------------------------------------ re-use of work

def test_embedded_png_is_parsed_once_and_the_pdf_stays_the_same(monkeypatch):
    """render.embed hands fpdf2 the image it parsed for an earlier document: same PDF bytes as pdf.image."""
    from fpdf import FPDF, image_parsing

    from quartier.reports import render

    img = Image.new("RGB", (60, 40), (200, 30, 30))
    img.paste((10, 90, 200), (0, 0, 30, 40))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    png = buf.getvalue()
    render._parsed.clear()

    def doc(embed: bool) -> bytes:
        pdf = FPDF()
        pdf.set_creation_date(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        pdf.add_page()
        for y in (10, 60):  # twice in one document: one image object
            if embed:
                render.embed(pdf, png, x=10, y=y, w=50)
            else:
                pdf.image(io.BytesIO(png), x=10, y=y, w=50)
        return bytes(pdf.output())

    plain = doc(False)
    parsed = []
    real = image_parsing.get_img_info
    monkeypatch.setattr(image_parsing, "get_img_info", lambda *a, **k: parsed.append(1) or real(*a, **k))
    assert doc(True) == plain
    assert doc(True) == plain
    assert len(parsed) == 1  # the second document took the parsed image


def test_report_charts_are_drawn_once_per_data(ro, monkeypatch):
    """The development charts are remembered by their data and titles: the same again is not drawn, a changed
    value or title is."""
    from quartier.reports import render

    s = report_summary.district_summary(ro, "haspe", with_table=False, actor=VIEWER_ACTOR)
    dev = s.development
    charts = [(iid, f"Titel {iid}", "%", 1) for iid in dict.fromkeys(dev["indikator_id"])]
    drawn = []
    monkeypatch.setattr(report_pdf, "chart_png", lambda chart: drawn.append(chart) or b"png-%d" % len(drawn))
    monkeypatch.setattr(render, "_cache", render.OrderedDict())
    first = report_pdf._charts_png(dev, charts)
    assert report_pdf._charts_png(dev.copy(), charts) == first == b"png-1"
    changed = dev.copy()
    changed.loc[changed.index[0], "wert"] = changed["wert"].iloc[0] + 1
    assert report_pdf._charts_png(changed, charts) == b"png-2"
    assert report_pdf._charts_png(dev, [(i, t + " ", u, d) for i, t, u, d in charts]) == b"png-3"
    assert report_pdf._charts_png(dev, charts) == b"png-1"
