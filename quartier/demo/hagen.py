"""The Hagen demo city: geometry from ``data/geo``, deterministic demo Kennzahlen as Excel deliveries.

All values are invented ("Beispieldaten"), plausible in size (published 2019 figures of the project
"Zusammen im Quartier"), and higher along the B 7 with deterministic noise.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from quartier import access, db
from quartier.alerts import store as hinweis_store
from quartier.areas import geometry as geo
from quartier.areas import versions
from quartier.demo import AXIS_NAME, CITY_NAME, guard
from quartier.need import method as index_method
from quartier.values import indicators

ROOT = Path(__file__).resolve().parents[2]
GEO_DIR = ROOT / "data" / "geo"
DEMO_DIR = ROOT / "data" / "demo"
YEARS = list(range(2015, 2026))

DEMO_USER = "demo"
ATTRIBUTION = (
    "Stadtgrenze: VG250, © GeoBasis-DE / BKG 2020, dl-de/by-2-0 (Daten verändert); "
    "Sozialräume: Beispielgliederung aus Stimmbezirken 2020, keine amtliche Geometrie; B 7: angenähert"
)

# Published 2019 shares of minors affected by poverty (Stadt Hagen, "Zusammen im Quartier").
PUBLISHED_U18_2019 = {
    "M04": 49.89, "S01": 47.81, "M02": 42.92, "M01": 41.31, "N06": 37.29, "E01": 27.93, "N05": 25.2,
}
BEZIRK_POPULATION = {1: 80365, 2: 37549, 5: 31000, 3: 29130, 4: 16966}
BEZIRK_SLUG = {1: "hagen-mitte", 2: "hagen-nord", 3: "hohenlimburg", 4: "eilpe-dahl", 5: "haspe"}


def _csv(name: str) -> list[dict]:
    with (GEO_DIR / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@dataclass
class DemoGeometry:
    areas: pd.DataFrame  # id, name, bezirk_nr, bezirk, geom (WGS84)
    axis: LineString
    outline: Polygon


def build_geometry() -> DemoGeometry:
    """Voronoi cells of the seed points, clipped to the outline, dissolved by Sozialraum."""
    outline_rows = sorted(_csv("city_outline.csv"), key=lambda r: int(r["order"]))
    outline = Polygon([(float(r["lon"]), float(r["lat"])) for r in outline_rows])
    if not outline.is_valid:
        outline = shapely.make_valid(outline)
    outline_m = geo.to_metric(outline)
    seeds = [r for r in _csv("seed_points.csv") if r["sozialraum_id"]]
    pts_m = [geo.to_metric(Point(float(s["lon"]), float(s["lat"]))) for s in seeds]
    cells = shapely.voronoi_polygons(MultiPoint(pts_m), extend_to=outline_m.buffer(5000))
    by_area: dict[str, list] = {}
    for cell in cells.geoms:
        for s, p in zip(seeds, pts_m):
            if cell.contains(p):
                by_area.setdefault(s["sozialraum_id"], []).append(cell.intersection(outline_m))
                break
    meta = {r["sozialraum_id"]: r for r in _csv("sozialraeume.csv")}
    rows = []
    for sid, m in meta.items():
        g = shapely.union_all(by_area[sid]).buffer(0)
        rows.append({
            "id": sid, "name": m["name"], "bezirk_nr": int(m["stadtbezirk_nr"]), "bezirk": m["stadtbezirk"],
            "geom": geo.to_wgs84(g.simplify(15)),
        })
    b7_rows = sorted(_csv("b7_line.csv"), key=lambda r: int(r["order"]))
    axis = LineString([(float(r["lon"]), float(r["lat"])) for r in b7_rows])
    return DemoGeometry(pd.DataFrame(rows), axis, outline)


def write_geometry(cur, g: DemoGeometry) -> None:
    """Replace Stadtbezirke, Sozialräume and axes with the demo geometry."""
    cur.execute("DELETE FROM sozialraum")
    cur.execute("DELETE FROM stadtbezirk")
    cur.execute("DELETE FROM achse")
    for nr, grp in g.areas.groupby("bezirk_nr"):
        union = shapely.union_all(list(grp["geom"].map(geo.to_metric))).buffer(0.5).buffer(-0.5)
        cur.execute(
            "INSERT INTO stadtbezirk (id, nr, name, geometry) VALUES (?, ?, ?, ?)",
            [BEZIRK_SLUG[int(nr)], int(nr), grp["bezirk"].iloc[0], geo.geom_to_text(geo.to_wgs84(union))],
        )
    for r in g.areas.to_dict("records"):
        lon, lat = geo.centroid(r["geom"])
        cur.execute(
            "INSERT INTO sozialraum (id, name, bezirk_id, geometry, centroid_lon, centroid_lat, flaeche_km2)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [r["id"], r["name"], BEZIRK_SLUG[r["bezirk_nr"]], geo.geom_to_text(r["geom"]), lon, lat, geo.area_km2(r["geom"])],
        )
    cur.execute("INSERT INTO achse (name, geometry) VALUES (?, ?)", [AXIS_NAME, geo.geom_to_text(g.axis)])


# --------------------------------------------------------------------------------------------
# Values


def build_values(g: DemoGeometry) -> pd.DataFrame:
    """Deterministic demo values: one row per indicator, Sozialraum and year with numerator/denominator."""
    rng = np.random.default_rng(7)
    areas = g.areas.copy()
    axis_m = geo.to_metric(g.axis)
    areas["dist_km"] = [geo.to_metric(gm).centroid.distance(axis_m) / 1000 for gm in areas["geom"]]
    seeds = pd.DataFrame([r for r in _csv("seed_points.csv") if r["sozialraum_id"]])
    n_seeds = seeds.groupby("sozialraum_id").size()
    # Latent need: close to the B 7 means more need; calibrated to the published 2019 figures.
    base = 14 + 30 * np.exp(-areas["dist_km"] / 1.2) + rng.normal(0, 3, len(areas))
    u18_2019 = {sid: PUBLISHED_U18_2019.get(sid, float(np.clip(b, 9, 36))) for sid, b in zip(areas["id"], base)}
    areas["u18_2019"] = areas["id"].map(u18_2019)
    areas["need"] = (areas["u18_2019"] - 10) / 40  # about 0..1
    # Population 2019 per Sozialraum: the district total split by seed count with noise.
    pop = {}
    for nr, grp in areas.groupby("bezirk_nr"):
        w = np.array([n_seeds.get(s, 1) for s in grp["id"]], dtype=float) * rng.uniform(0.75, 1.25, len(grp))
        for sid, share in zip(grp["id"], w / w.sum()):
            pop[sid] = BEZIRK_POPULATION[int(nr)] * share
    areas["pop2019"] = areas["id"].map(pop)
    u18_share = 0.145 + 0.06 * areas["need"]
    u18_share *= 33567 / float((areas["pop2019"] * u18_share).sum())
    areas["u18_share"] = u18_share

    rows = []
    years = np.array(YEARS)
    # City-wide development: SGB II peak around 2017/2018, slow decline, uptick 2022 (Ukraine).
    sgb_trend = {y: 1 + 0.05 * np.exp(-((y - 2017.5) ** 2) / 4) - 0.015 * max(0, y - 2019) + (0.04 if y >= 2022 else 0) for y in years}
    for a in areas.to_dict("records"):
        need = a["need"]
        own = rng.normal(0, 0.012, len(years)).cumsum()
        for j, y in enumerate(years):
            growth = 1 + 0.002 * (y - 2019) + (0.012 if y >= 2022 else 0)
            ew = round(a["pop2019"] * growth * (1 + rng.normal(0, 0.004)))
            u18 = round(ew * a["u18_share"] * (1 + 0.004 * (y - 2019)))
            u15 = round(u18 * 0.83)
            u21 = round(u18 * 1.18)
            u65 = round(ew * 0.79)
            u3 = max(8, round(u18 / 6.2))
            cohort = max(6, round(u18 / 18 * rng.uniform(0.9, 1.1)))
            households = round(u18 / 1.72)
            factor = sgb_trend[y] * (1 + own[j])
            vals = {
                "ew_gesamt": (ew, None, None),
                "ew_u18": (u18, None, None),
                "sgb2_u18": _rate(a["u18_2019"] * factor, u18, rng, 0.01),
                "sgb2_u15": _rate(a["u18_2019"] * 1.06 * factor, u15, rng, 0.01),
                "sgb2_quote": _rate(a["u18_2019"] * 0.52 * factor, u65, rng, 0.01),
                "migration_u18": _rate(32 + 38 * need + 0.8 * (y - 2015), u18, rng, 0.02),
                "alleinerziehend": _rate(16 + 14 * need, households, rng, 0.04),
                "kinderreich": _rate(8 + 9 * need, households, rng, 0.05),
                "seu_sprache": _rate(14 + 34 * need + 0.6 * (y - 2015), cohort, rng, 0.08),
                "seu_uebergewicht": _rate(7 + 9 * need, cohort, rng, 0.12),
                "seu_vorsorge": _rate(93 - 17 * need, cohort, rng, 0.02),
                "uebergang_gym": _rate(56 - 30 * need, cohort, rng, 0.06),
                "ohne_abschluss": _rate(2.5 + 8 * need, cohort, rng, 0.25),
                "hze_quote": _rate(14 + 42 * need, u21, rng, 0.07, per=1000),
                "kita_u3": _rate(38 - 14 * need + 0.9 * (y - 2015), u3, rng, 0.05),
            }
            for iid, (wert, zaehler, nenner) in vals.items():
                rows.append({"indikator_id": iid, "sozialraum_id": a["id"], "jahr": int(y),
                             "wert": wert, "zaehler": zaehler, "nenner": nenner})
    df = pd.DataFrame(rows)
    # Jobcenter suppresses counts below 3 at source ("*" in the file).
    jc = df["indikator_id"].isin(["sgb2_u15", "sgb2_u18", "sgb2_quote"])
    df["gesperrt"] = jc & df["zaehler"].notna() & (df["zaehler"] < 3)
    df.loc[df["gesperrt"], ["wert", "zaehler"]] = np.nan
    return df


def _rate(pct: float, denominator: int, rng, noise: float, per: int = 100):
    pct = max(0.0, pct * (1 + rng.normal(0, noise)))
    num = int(round(denominator * pct / per))
    num = min(num, denominator)
    value = round(num / denominator * per, 1) if denominator else None
    return value, num, denominator


# --------------------------------------------------------------------------------------------
# Deliveries as Excel/CSV files, in the layouts departments send.

LIEFERANTEN = {
    "Jobcenter": ("jobcenter_sgb2_2015-2025.xlsx", ["sgb2_u15", "sgb2_u18", "sgb2_quote"]),
    "Einwohnerwesen": ("einwohnerwesen_bevoelkerung_2015-2025.xlsx", ["ew_gesamt", "ew_u18", "migration_u18", "alleinerziehend", "kinderreich"]),
    "Gesundheitsamt": ("gesundheitsamt_seu_2015-2025.xlsx", ["seu_sprache", "seu_uebergewicht", "seu_vorsorge"]),
    "Schulverwaltung": ("schulverwaltung_bildung_2015-2025.xlsx", ["uebergang_gym", "ohne_abschluss"]),
    "Jugendamt": ("jugendamt_kennzahlen_2015-2025.csv", ["hze_quote", "kita_u3"]),
}


def _num(v):
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else (int(v) if float(v).is_integer() and v > 200 else float(v))


def write_deliveries(values: pd.DataFrame, names: dict[str, str], ind: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """Write one delivery file per Lieferant; return {Lieferant: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    iname = dict(zip(ind["id"], ind["name"]))
    paths = {}
    v = values.copy()
    v["sozialraum"] = v["sozialraum_id"].map(names)

    for writer in (_write_jobcenter, _write_wide_by_indicator, _write_schulverwaltung, _write_jugendamt):
        writer(v, names, ind, iname, out_dir, paths)
    return paths


def _write_jobcenter(v: pd.DataFrame, names: dict[str, str], ind: pd.DataFrame, iname: dict[str, str],
                     out_dir: Path, paths: dict[str, Path]) -> None:
    """Jobcenter: long layout under a title block, footnotes and a city total per year."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    # Jobcenter: long layout under a title block, footnotes and a city total per year.
    wb = Workbook()
    ws = wb.active
    ws.title = "SGB II Sozialräume"
    ws.append(["Jobcenter Hagen – Kennzahlen SGB II nach Sozialräumen"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["Stichtag jeweils 31.12.; Beispieldaten, keine amtlichen Zahlen"])
    ws.append([])
    ws.append(["Jahr", "Sozialraum-Nr.", "Sozialraum", "Kennzahl", "Anzahl (Zähler)", "Bezugsgröße (Nenner)", "Quote in %"])
    for c in ws[4]:
        c.font = Font(bold=True)
    part = v[v["indikator_id"].isin(LIEFERANTEN["Jobcenter"][1])]
    for (y, iid), grp in part.groupby(["jahr", "indikator_id"], sort=True):
        for r in grp.to_dict("records"):
            if r["gesperrt"]:
                ws.append([y, r["sozialraum_id"], r["sozialraum"], iname[iid], "*", r["nenner"], "*"])
            else:
                ws.append([y, r["sozialraum_id"], r["sozialraum"], iname[iid], _num(r["zaehler"]), _num(r["nenner"]), r["wert"]])
        ws.append([y, None, "Stadt Hagen gesamt", iname[iid], None, int(grp["nenner"].sum()), None])
    ws.append([])
    ws.append(["* Werte unter 3 Fällen aus Datenschutzgründen gesperrt."])
    ws.append(["Quelle: Statistik der Bundesagentur für Arbeit, Sonderauswertung (Beispieldaten)."])
    paths["Jobcenter"] = out_dir / LIEFERANTEN["Jobcenter"][0]
    wb.save(paths["Jobcenter"])


def _write_wide_by_indicator(v: pd.DataFrame, names: dict[str, str], ind: pd.DataFrame, iname: dict[str, str],
                     out_dir: Path, paths: dict[str, Path]) -> None:
    """Einwohnerwesen and Gesundheitsamt: wide by indicator, one sheet per year, merged headers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    # Einwohnerwesen and Gesundheitsamt: wide by indicator, one sheet per year, merged headers.
    unit = dict(zip(ind["id"], ind["einheit"]))
    cells = {(r["indikator_id"], r["jahr"], r["sozialraum_id"]): r for r in v.to_dict("records")}
    for lieferant, title in (("Einwohnerwesen", "Bevölkerung nach Sozialräumen, Stand 31.12.{y}"),
                             ("Gesundheitsamt", "Schuleingangsuntersuchung {y} – Ergebnisse nach Sozialräumen")):
        fname, ids = LIEFERANTEN[lieferant]
        wb = Workbook()
        wb.remove(wb.active)
        for y in YEARS:
            ws = wb.create_sheet(str(y))
            ws.append([title.format(y=y)])
            ws["A1"].font = Font(bold=True, size=13)
            ws.append(["Beispieldaten"])
            ws.append([])
            top, sub = ["Nr.", "Sozialraum"], ["", ""]
            for iid in ids:
                if unit[iid] == "Anzahl":
                    top.append(iname[iid])
                    sub.append("Anzahl")
                else:
                    top += [iname[iid], None, None]
                    sub += ["Anzahl", "Basis", "%"]
            ws.append(top)
            ws.append(sub)
            col = 3
            for iid in ids:
                if unit[iid] != "Anzahl":
                    ws.merge_cells(start_row=4, start_column=col, end_row=4, end_column=col + 2)
                    ws.cell(row=4, column=col).alignment = Alignment(horizontal="center", wrap_text=True)
                    col += 3
                else:
                    col += 1
            for row in (4, 5):
                for c in ws[row]:
                    c.font = Font(bold=True)
            for sid in sorted(names):
                line = [sid, names[sid]]
                for iid in ids:
                    r = cells[(iid, y, sid)]
                    if unit[iid] == "Anzahl":
                        line.append(_num(r["wert"]))
                    else:
                        line += [_num(r["zaehler"]), _num(r["nenner"]), r["wert"]]
                ws.append(line)
        paths[lieferant] = out_dir / fname
        wb.save(paths[lieferant])


def _write_schulverwaltung(v: pd.DataFrame, names: dict[str, str], ind: pd.DataFrame, iname: dict[str, str],
                     out_dir: Path, paths: dict[str, Path]) -> None:
    """Schulverwaltung: wide by year, one sheet per indicator, years as merged headers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    # Schulverwaltung: wide by year, one sheet per indicator, years as merged headers.
    fname, ids = LIEFERANTEN["Schulverwaltung"]
    cells = {(r["indikator_id"], r["jahr"], r["sozialraum_id"]): r for r in v.to_dict("records")}
    wb = Workbook()
    wb.remove(wb.active)
    for iid in ids:
        ws = wb.create_sheet(ind.set_index("id").loc[iid, "kurzname"][:31])
        ws.append([iname[iid] + " nach Wohn-Sozialraum"])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(["Beispieldaten; Schuljahr jeweils zum Sommer des genannten Jahres"])
        top, sub = ["Sozialraum"], [""]
        for y in YEARS:
            top += [y, None, None]
            sub += ["Anzahl", "Basis", "%"]
        ws.append(top)
        ws.append(sub)
        for k in range(len(YEARS)):
            ws.merge_cells(start_row=3, start_column=2 + 3 * k, end_row=3, end_column=4 + 3 * k)
        for sid in sorted(names):
            line = [names[sid]]
            for y in YEARS:
                r = cells[(iid, y, sid)]
                line += [_num(r["zaehler"]), _num(r["nenner"]), r["wert"]]
            ws.append(line)
    paths["Schulverwaltung"] = out_dir / fname
    wb.save(paths["Schulverwaltung"])


def _write_jugendamt(v: pd.DataFrame, names: dict[str, str], ind: pd.DataFrame, iname: dict[str, str],
                     out_dir: Path, paths: dict[str, Path]) -> None:
    """Jugendamt: long CSV, semicolon, Windows-1252, German decimal comma."""

    # Jugendamt: long CSV, semicolon, Windows-1252, German decimal comma.
    fname, ids = LIEFERANTEN["Jugendamt"]
    part = v[v["indikator_id"].isin(ids)].sort_values(["jahr", "indikator_id", "sozialraum_id"])
    lines = ["Berichtsjahr;Sozialraum;Kennzahl;Zähler;Nenner;Wert"]
    for r in part.to_dict("records"):
        w = "" if pd.isna(r["wert"]) else f"{r['wert']:.1f}".replace(".", ",")
        lines.append(f"{r['jahr']};{r['sozialraum']};{iname[r['indikator_id']]};{int(r['zaehler'])};{int(r['nenner'])};{w}")
    paths["Jugendamt"] = out_dir / fname
    paths["Jugendamt"].write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def import_deliveries(con, paths: dict[str, Path]) -> list[dict]:
    """Load the delivery files through the importer, as staff would (warnings are confirmed)."""
    from quartier import ingest
    from quartier.access import ADMIN, Actor

    actor = Actor(DEMO_USER, ADMIN, raw_data=True)
    reports = []
    for lieferant in LIEFERANTEN:
        path = paths[lieferant]
        fa = ingest.analyse_file(con, path.read_bytes(), path.name, lieferant=lieferant)
        if fa.errors:
            first = fa.errors[0]
            raise db.DatabaseError(f"Demo-Lieferung {path.name} wurde abgelehnt: {first.sheet} {first.cell} {first.message}")
        reports.append(ingest.commit(con, fa, actor, confirm_warnings=True, lieferant=lieferant))
    return reports


def is_demo(con) -> bool:
    return db.get_setting(con, "demo", "0") == "1"


DEMO_METHOD_NAME = index_method.STANDARD_METHOD_NAME
DEMO_INDICATORS = [  # Jobcenter, Gesundheitsamt, Schulverwaltung, Jugendamt
    ("sgb2_u18", 2.0), ("seu_sprache", 1.0), ("seu_vorsorge", 1.0), ("uebergang_gym", 1.0),
    ("ohne_abschluss", 1.0), ("hze_quote", 1.0), ("kita_u3", 1.0),
]


def demo_method() -> dict:
    """The demo city's Handlungsbedarf method in JSON form (the directions come from the catalogue)."""
    return {
        "name": DEMO_METHOD_NAME, "version": None, "kind": "zscore",
        "indicators": [{"id": i, "weight": w} for i, w in DEMO_INDICATORS],
    }


def ensure_demo_method(con) -> None:
    """Save the demo city's method (Jobcenter, Gesundheitsamt, Schulverwaltung, Jugendamt indicators)."""
    index_method.save_method(con, demo_method(), access.Actor(DEMO_USER, access.ADMIN, raw_data=True))


def build(con, force: bool = False, progress=lambda msg: None, out_dir: Path | None = None,
          confirm: str | None = None) -> dict:
    """Build the demo city into ``con``. A database with content is replaced only with ``force`` (and, when it
    is not a demo, ``confirm`` = the city's name); it is backed up first (:mod:`quartier.demo.guard`).

    The deliveries are written to ``out_dir`` (default ``data/demo/lieferungen``).
    """
    accounts_allowed = guard.is_demo(con) or not guard.has_content(con)
    saved = guard.before_replace(con, force=force, confirm=confirm, command="demo")
    if saved:
        progress(f"Sicherung vor dem Ersetzen: {saved}")
    progress("Geometrie: Voronoi-Zellen der Stimmbezirks-Punkte, an der Stadtgrenze abgeschnitten …")
    g = build_geometry()
    with db.transaction(con) as tx:
        for table in ("hinweis", "hinweis_lauf", "messwert", "lieferung", "alias", "indikator"):
            tx.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        write_geometry(tx, g)
        versions.reset(tx, DEMO_USER)  # a new city: its areas are Gebietsstand 1
        db.set_setting(tx, "stadt", CITY_NAME)
        db.set_setting(tx, "demo", "1")
        db.set_setting(tx, "attribution", ATTRIBUTION)
        db.audit(tx, DEMO_USER, "demo_aufbauen", CITY_NAME, None)
    progress("Indikatorenkatalog laden …")
    indicators.load_catalogue(con, DEMO_DIR / "indikatoren.csv", user=DEMO_USER)
    ind = indicators.catalogue(con)
    progress("Beispielwerte 2015–2025 erzeugen und als Lieferungen schreiben …")
    values = build_values(g)
    names = dict(zip(g.areas["id"], g.areas["name"]))
    paths = write_deliveries(values, names, ind, out_dir or DEMO_DIR / "lieferungen")
    progress("Lieferungen über den Importer einlesen …")
    import_deliveries(con, paths)
    ensure_demo_method(con)  # Handlungsbedarf: demo method
    progress("Hinweise je Lieferung berechnen …")
    hinweis_store.record_missing(con, actor=access.Actor(DEMO_USER, access.ADMIN, raw_data=True))
    load_demo_actions(con)  # Handlungsempfehlungen (Beispiel)
    progress("Angebote (Beispiel) laden …")
    from quartier.demo.angebote import load_demo_offers

    load_demo_offers(con)
    if accounts_allowed:  # never the published demo passwords in a database that held real accounts
        __import__("quartier.admin.auth", fromlist=["auth"]).ensure_demo_accounts(con)  # Demo-Konten (README: Anmeldung)
    res = {"sozialraeume": len(g.areas), "indikatoren": len(ind), "werte": len(values), "lieferungen": len(paths)}
    if saved:
        res["sicherung"] = str(saved)
    return res


# --------------------------------------------------------------------------------------------
# Handlungsempfehlungen (Beispiel)


DEMO_FILES = ("empfehlungen.csv", "empfehlungen_aenderungen.csv")
DEMO_REFERENCE_DATE = date(2026, 11, 1)   # the demo's history ends before this day (tests use it as "today")
DEMO_SNAPSHOTS = (("Bericht JHA März 2025", date(2025, 3, 12)), ("Bericht JHA September 2026", date(2026, 9, 16)))
_DEMO_ONLY = ("Datum", "Benutzer")


def load_demo_actions(con, demo_dir=None) -> dict:
    """Load the example recommendations (Beispiel) through the import, replaying their history with fixed dates.

    ``empfehlungen.csv`` holds the catalogue as decided (in the import format plus the demo-only columns
    "Datum" and "Benutzer"); ``empfehlungen_aenderungen.csv`` holds later updates, one per row, each carrying
    only the fields it changes. Existing recommendations, history and Berichtsstände are replaced.
    """
    from quartier.actions import excel as catalogue_io
    from quartier.actions.model import CatalogueError
    from quartier.actions.snapshots import create_snapshot

    base = Path(demo_dir) if demo_dir else DEMO_DIR
    with db.transaction(con) as cur:
        for table in ("empfehlung", "empfehlung_sozialraum", "empfehlung_indikator", "empfehlung_verlauf", "berichtsstand"):
            cur.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        db.audit(cur, "demo", "empfehlungen_demo_leeren", None, None)
    n_changes = 0
    for fname in DEMO_FILES:
        sheet = catalogue_io.read_sheet(base / fname)
        idx = {h: i for i, h in enumerate(sheet.header)}
        keep = [i for i, h in enumerate(sheet.header) if h not in _DEMO_ONLY]
        groups: list[tuple[str, str, list]] = []
        for rownum, values in sheet.rows:
            if not any(str(v).strip() for v in values):
                continue
            when, who = values[idx["Datum"]], values[idx["Benutzer"]]
            if fname == DEMO_FILES[0]:
                cols = keep          # the catalogue: every column
            else:                    # an update: only the non-empty cells (plus Nummer)
                cols = [i for i in keep if str(values[i]).strip() or sheet.header[i] == "Nummer"]
            groups.append((when, who, [(rownum, [values[i] for i in cols], [sheet.header[i] for i in cols])]))
        # merge consecutive catalogue rows with the same date and user into one import
        merged: list[tuple[str, str, list]] = []
        for g in groups:
            if fname == DEMO_FILES[0] and merged and merged[-1][:2] == g[:2]:
                merged[-1][2].extend(g[2])
            else:
                merged.append(g)
        for when, who, rows in merged:
            header = rows[0][2]
            part = catalogue_io.Sheet(sheet.name, header, [(r, v) for r, v, _ in rows])
            res = catalogue_io.import_sheet(con, access.Actor(who, access.EDITOR), part, fname,
                                            now=datetime.combine(date.fromisoformat(when), time(9, 0)))
            if res.errors:
                raise CatalogueError("Demo-Empfehlungen fehlerhaft: " + "; ".join(e["message"] for e in res.errors))
            n_changes += res.new + res.changed
    admin = access.Actor("jugendhilfeplanung", access.EDITOR)
    for name, day in DEMO_SNAPSHOTS:
        create_snapshot(con, admin, name, day, now=datetime.combine(day, time(18, 0)))
    n = con.cursor().execute("SELECT count(*) FROM empfehlung").fetchone()[0]
    return {"empfehlungen": int(n), "aenderungen": n_changes, "berichtsstaende": len(DEMO_SNAPSHOTS)}
