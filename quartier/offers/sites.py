"""A city's list of candidate sites for the location suggestion (Excel/CSV or GeoJSON points, via the safe reader).

Columns matched tolerantly as in the offers import: ``Breitengrad``/``Längengrad`` (WGS84) or
``Rechtswert``/``Hochwert`` (ETRS89/UTM, zone by setting), optional ``Name``. Every site must lie inside
the city; all problems are reported at once (German, with the cell), nothing is guessed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter
from pyproj import Transformer

from quartier import db, settings, uploads
from quartier.names import normalize
from quartier.offers.importer import _BY_HEADER, _clean, _geojson_rows, _number
from quartier.offers.store import OfferError, city_geometry, to_metric_xy

MAX_SITES = 5000


class SiteError(OfferError):
    """The site list has errors (exit 1); ``problems`` lists them."""

    def __init__(self, problems: list[str]):
        super().__init__("Standortliste abgelehnt: " + " ".join(problems[:20])
                         + (f" … und {len(problems) - 20} weitere." if len(problems) > 20 else ""))
        self.problems = problems


def _rows(data: bytes, filename: str) -> list[tuple[str, dict[str, Any]]]:
    if filename.lower().endswith((".geojson", ".json")):
        return [(f"Objekt {r.line}", r.values) for r in _geojson_rows(data, filename)]
    book = uploads.read_book(data, filename)
    for sheet in book.sheets:
        for i, row in enumerate(sheet.rows[:15]):
            cols: dict[str, int] = {}
            for c, h in enumerate(row):
                key = _BY_HEADER.get(normalize(h))
                if key and key not in cols:
                    cols[key] = c
            if {"lat", "lon"} <= set(cols) or {"rechtswert", "hochwert"} <= set(cols):
                out = []
                for r, raw in enumerate(sheet.rows[i + 1:], start=i + 2):
                    vals = {k: _clean(raw[c]) if c < len(raw) else None for k, c in cols.items()}
                    if any(v is not None for v in vals.values()):
                        where = get_column_letter(cols.get("lat", cols.get("rechtswert", 0)) + 1)
                        out.append((f"Blatt „{sheet.name}“ Zelle {where}{r}", vals))
                return out
    raise OfferError(f"{filename}: keine Kopfzeile mit Breitengrad/Längengrad oder Rechtswert/Hochwert gefunden.")


def read_sites(con: db.Con, path: str | Path) -> list[dict]:
    """The candidate sites of a file as [{"lon", "lat", "name"}] (WGS84), each checked to lie inside the city."""
    name = Path(path).name
    rows = _rows(uploads.read_path(path), name)
    if not rows:
        raise OfferError(f"{name}: die Datei enthält keine Standorte.")
    if len(rows) > MAX_SITES:
        raise SiteError([f"{len(rows)} Standorte; höchstens {MAX_SITES} sind möglich. Bitte die Liste kürzen."])
    zone = settings.read_int(con, "angebote_utm_zone")
    utm = Transformer.from_crs(f"EPSG:258{zone}", "EPSG:4326", always_xy=True)
    city = city_geometry(con)
    out: list[dict] = []
    problems: list[str] = []
    for where, v in rows:
        try:
            if v.get("lat") is not None or v.get("lon") is not None:
                lon, lat = _number(v.get("lon")), _number(v.get("lat"))
            else:
                e, n = _number(v.get("rechtswert")), _number(v.get("hochwert"))
                lon, lat = utm.transform(e, n) if e is not None and n is not None else (None, None)
        except ValueError:
            problems.append(f"{where}: die Koordinate ist keine Zahl.")
            continue
        if lon is None or lat is None:
            problems.append(f"{where}: es fehlt eine der beiden Koordinaten.")
            continue
        x, y = to_metric_xy([lon], [lat])
        if city.locate(x, y)[0] is None:
            problems.append(f"{where}: der Standort {lat:.5f}, {lon:.5f} (Breite, Länge) liegt außerhalb der Stadt "
                            f"(vertauschte Breite/Länge? andere UTM-Zone als {zone}N?).")
            continue
        out.append({"lon": float(lon), "lat": float(lat), "name": str(v.get("name") or f"Standort {len(out) + 1}")})
    if problems:
        raise SiteError(problems)
    return out
