"""A hand-made city of two 1 km squares (A west, B east) in ETRS89/UTM 32N for the offers tests."""

from __future__ import annotations

import json

import shapely
from pyproj import Transformer

from quartier import access, db
from quartier.offers import catalogue

E0, N0 = 400000.0, 5700000.0
TO_WGS = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)
ADMIN = access.Actor("test", access.ADMIN, raw_data=True)


def wgs(x: float, y: float) -> tuple[float, float]:
    """Local metres (origin at the south-west corner of A) -> (lon, lat)."""
    lon, lat = TO_WGS.transform(E0 + x, N0 + y)
    return float(lon), float(lat)


def square(x0: float, y0: float, size: float = 1000.0):
    ring = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0)]
    dense = []
    for (ax, ay), (bx, by) in zip(ring[:-1], ring[1:]):  # densify so the reprojection keeps the square
        dense += [(ax + (bx - ax) * t / 20, ay + (by - ay) * t / 20) for t in range(20)]
    dense.append(ring[0])
    return shapely.Polygon([wgs(x, y) for x, y in dense])


def build(con, targets=(200.0, 100.0), year: int = 2024) -> None:
    with db.transaction(con) as cur:
        for sid, name, x0, bez in (("A", "Westfeld", 0.0, "b1"), ("B", "Ostfeld", 1000.0, "b1")):
            g = square(x0, 0.0)
            cur.execute("INSERT INTO sozialraum (id, name, bezirk_id, geometry, centroid_lon, centroid_lat, flaeche_km2)"
                        " VALUES (?, ?, ?, ?, ?, ?, 1.0)",
                        [sid, name, bez, json.dumps(shapely.geometry.mapping(g)), g.centroid.x, g.centroid.y])
        cur.execute("INSERT INTO stadtbezirk (id, nr, name) VALUES ('b1', 1, 'Bezirk 1')")
        cur.execute("INSERT INTO indikator (id, name, einheit) VALUES ('zg', 'Zielgruppe', 'Anzahl')")
        cur.execute("INSERT INTO lieferung (id, dateiname, sha256, importiert_von) VALUES (1, 'x.csv', 'x', 'test')")
        for sid, v in zip(("A", "B"), targets):
            for y in (year - 1, year):
                cur.execute("INSERT INTO messwert (lieferung_id, indikator_id, sozialraum_id, jahr, wert) VALUES (1, 'zg', ?, ?, ?)",
                            [sid, y, v])
    catalogue.save(con, [{"name": "Kita", "zielgruppe_indikator": "zg", "radius_m": 100},
                         {"name": "Spielplatz", "zielgruppe_indikator": "zg", "radius_m": 100}], actor=ADMIN)


def add_offer(con, oid: str, x: float | None, y: float | None, plaetze=None, kategorie="Kita", beginn=None, ende=None,
              sozialraum=None) -> None:
    lon, lat = wgs(x, y) if x is not None else (None, None)
    if sozialraum is None and x is not None:
        sozialraum = "A" if x <= 1000 else "B"
    with db.transaction(con) as cur:
        cur.execute("INSERT INTO angebot (id, name, kategorie, plaetze, beginn, ende, lon, lat, sozialraum_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [oid, f"Angebot {oid}", kategorie, plaetze, beginn, ende, lon, lat,
                                                            sozialraum])
