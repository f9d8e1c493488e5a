"""A second city that shares nothing with the demo: built through the real command line.

"Musterstadt": a grid of 40 square Sozialräume (ids P001..P040, names like "Nordviertel 1") near Kassel,
four Stadtbezirke, no axis, its own catalogue (``arm_kind``, ``einw``, ``kinder``, ``kita_quote``), no saved
index method. One long delivery (three years, rates with numerators and denominators) and one yearbook-style
table (title, group header merged over columns, indicator names, descriptions, a merged area header, district
and city total rows, the year in the group header). Used by the unit, app and browser tests of issue 15.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from openpyxl import Workbook

CITY = "Musterstadt"
ADMIN_USER, ADMIN_PASSWORD = "leitung", "Musterstadt-Leitung-2025"
VIEWER_USER, VIEWER_PASSWORD = "gast", "Musterstadt-Gast-2025"
COLS, ROWS = 8, 5                     # 40 areas
LON0, LAT0, DLON, DLAT = 9.40, 51.28, 0.012, 0.008
DISTRICTS = ("Nord", "Mitte", "Süd", "Ost")
QUARTERS = {"Nord": "Nordviertel", "Mitte": "Altstadt", "Süd": "Südhang", "Ost": "Ostend"}
YEARS = (2022, 2023, 2024)
CATALOGUE = (
    "id;name;kurzname;einheit;lieferant;richtung;definition;zaehler;nenner;min;max;leitindikator\n"
    "arm_kind;Kinder in Armutslagen;Kinderarmut;%;Sozialamt;höher;Anteil der Kinder in Haushalten mit Mindestsicherung;"
    "Kinder mit Mindestsicherung;Kinder unter 18 Jahren;0;100;ja\n"
    "einw;Einwohnerzahl;Einwohner;Anzahl;Statistikstelle;;Hauptwohnsitz am 31.12.;;;0;;ja\n"
    "kinder;Kinder unter 18 Jahren;Kinder;Anzahl;Statistikstelle;;Anzahl der Kinder und Jugendlichen unter 18 Jahren;;;0;;ja\n"
    "kita_quote;Kita-Besuchsquote;Kita;%;Sozialamt;niedriger;Anteil der Kinder von 3 bis 6 Jahren in einer Kita;"
    "Kinder in Kitas;Kinder von 3 bis 6 Jahren;0;100;\n"
)
INDICATOR_NAMES = ("Kinder in Armutslagen", "Einwohnerzahl", "Kinder unter 18 Jahren", "Kita-Besuchsquote")
# What must never show up in this city's pages and report: the demo city, its axis and its indicators.
DEMO_WORDS = ("Hagen", "B 7", "sgb2_u18", "SGB-II-Quote", "SGB II", "Minderjährige in SGB", "Einwohner unter 18",
              "Sprachförderbedarf", "Schuleingangsuntersuchung", "Hilfen zur Erziehung", "HzE", "Betreuungsquote unter 3",
              "Übergangsquote zum Gymnasium", "Eilpe", "Haspe", "Hohenlimburg", "Wehringhausen")


def areas() -> list[dict]:
    """id, name, bezirk and the square's corners of each area (row 0 in the north)."""
    out, k = [], 0
    for r in range(ROWS):
        for c in range(COLS):
            k += 1
            bezirk = DISTRICTS[(0 if r < 2 else 2) + (0 if c < COLS // 2 else 1)] if r != 2 else "Mitte"
            lon, lat = LON0 + c * DLON, LAT0 + (ROWS - 1 - r) * DLAT
            ring = [[lon, lat], [lon + DLON, lat], [lon + DLON, lat + DLAT], [lon, lat + DLAT], [lon, lat]]
            out.append({"id": f"P{k:03d}", "bezirk": bezirk, "ring": ring})
    seen: dict[str, int] = {}
    for a in out:
        seen[a["bezirk"]] = seen.get(a["bezirk"], 0) + 1
        a["name"] = f"{QUARTERS[a['bezirk']]} {seen[a['bezirk']]}"
    return out


def geojson(path: Path) -> Path:
    feats = [{"type": "Feature", "properties": {"gebiet_nr": a["id"], "gebiet_name": a["name"], "bezirk": a["bezirk"]},
              "geometry": {"type": "Polygon", "coordinates": [a["ring"]]}} for a in areas()]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return path


def _figures(k: int, year: int) -> dict:
    """Made-up but consistent figures of area number ``k`` (0-based) in ``year``."""
    einw = 1800 + 97 * k + 11 * (year - YEARS[0])
    kinder = einw * (14 + k % 7) // 100
    arm = kinder * (6 + (k * 7) % 29 + (year - YEARS[0])) // 100
    kita_n = max(kinder // 4, 1)
    kita_z = kita_n * (70 + (k * 3) % 25) // 100
    return {"einw": einw, "kinder": kinder, "arm": arm, "kita_z": kita_z, "kita_n": kita_n}


def _save(path: Path, rows: list[list], merged: tuple[str, ...] = (), sheet: str = "Daten") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    for rng in merged:
        ws.merge_cells(rng)
    wb.save(path)
    return path


def long_delivery(path: Path) -> Path:
    """The Sozialamt's long table: rates with numerator and denominator for three years."""
    rows: list[list] = [["Jahr", "Sozialraum", "Kennzahl", "Zähler", "Nenner", "Wert"]]
    for year in YEARS:
        for k, a in enumerate(areas()):
            f = _figures(k, year)
            rows.append([year, a["id"], "Kinder in Armutslagen", f["arm"], f["kinder"], round(f["arm"] / f["kinder"] * 100, 1)])
            rows.append([year, a["id"], "Kita-Besuchsquote", f["kita_z"], f["kita_n"], round(f["kita_z"] / f["kita_n"] * 100, 1)])
    return _save(path, rows)


def yearbook(path: Path, year: int) -> Path:
    """The statistics office's yearbook table: counts by Stadtteil with district and city totals."""
    rows: list[list] = [[f"Tabelle 2.1: Bevölkerung in {CITY} nach Stadtteilen"],
                        ["Stadtteil", f"Bevölkerung am 31.12.{year}", None],
                        [None, "Einwohnerzahl", "Kinder unter 18 Jahren"],
                        [None, "Personen mit Hauptwohnsitz", "Anzahl der Kinder und Jugendlichen unter 18 Jahren"]]
    city = [0, 0]
    for d in DISTRICTS:
        tot = [0, 0]
        for k, a in enumerate(areas()):
            if a["bezirk"] == d:
                f = _figures(k, year)
                rows.append([a["name"], f["einw"], f["kinder"]])
                tot = [tot[0] + f["einw"], tot[1] + f["kinder"]]
        rows.append([f"Bezirk {d}", *tot])
        city = [city[0] + tot[0], city[1] + tot[1]]
    rows.append([f"{CITY} insgesamt", *city])
    return _save(path, rows, merged=("A2:A4", "B2:C2"), sheet=f"Bevölkerung {year}")


def _cli(*args, stdin: str | None = None) -> None:
    from quartier.cli import main

    old = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main([str(a) for a in args])
    finally:
        sys.stdin = old
    if code:
        raise AssertionError(f"quartier {' '.join(map(str, args))}: exit {code}")


def build(db_path: Path, work: Path) -> Path:
    """Set up Musterstadt in ``db_path`` with the command line, as a new city would; return ``db_path``."""
    work.mkdir(parents=True, exist_ok=True)
    geo = geojson(work / "musterstadt.geojson")
    _cli("init", "--city", CITY, "--geometry", geo, "--id-field", "gebiet_nr", "--name-field", "gebiet_name",
         "--bezirk-field", "bezirk", "--db", db_path, "--user", "einrichtung")
    cat = work / "katalog.csv"
    cat.write_text(CATALOGUE, encoding="utf-8")
    _cli("indicators", "load", cat, "--db", db_path, "--user", "einrichtung")
    _cli("import", long_delivery(work / "sozialamt_kennzahlen.xlsx"), "--lieferant", "Sozialamt", "--db", db_path,
         "--user", "einrichtung")
    for year in YEARS:
        _cli("import", yearbook(work / f"jahrbuch_bevoelkerung_{year}.xlsx", year), "--lieferant", "Statistikstelle",
             "--db", db_path, "--user", "einrichtung")
    _cli("user", "add", ADMIN_USER, "--role", "Administration", "--password-stdin", "--db", db_path,
         "--user", "einrichtung", stdin=ADMIN_PASSWORD + "\n")
    _cli("user", "add", VIEWER_USER, "--role", "Betrachtung", "--password-stdin", "--db", db_path,
         "--user", "einrichtung", stdin=VIEWER_PASSWORD + "\n")
    return db_path
