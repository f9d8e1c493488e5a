"""Demo offers for Hagen (Beispieldaten): five categories and about 80 invented offers.

Placed deterministically from the demo geometry: random points inside the city (fixed seed), accepted with
a probability that falls with the distance from the centre of Hagen-Mitte, so the centre is denser.
Loaded through the offers importer (the same checks as a city's own list).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from quartier import access
from quartier.offers import catalogue, importer
from quartier.offers.store import city_geometry, to_wgs_xy

DEMO_ACTOR = access.Actor("demo", access.ADMIN, raw_data=True)
CATEGORIES = [  # name, target-group indicator, walking radius, number of offers, places range
    ("Kita", "ew_u18", 500, 26, (35, 110)),
    ("Jugendzentrum", "ew_u18", 1000, 12, (30, 80)),
    ("Familienzentrum", "ew_u18", 1000, 10, (20, 60)),
    ("Spielplatz", "ew_u18", 500, 24, None),
    ("Beratungsstelle", "ew_u18", 1500, 8, (10, 40)),
]
TRAEGER = ["Stadt Hagen (Beispiel)", "AWO (Beispiel)", "Caritas (Beispiel)", "Diakonie (Beispiel)",
           "Elterninitiative (Beispiel)", "DRK (Beispiel)"]
CENTRE_BEZIRK = "Hagen-Mitte"


def _places(city, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points inside the city, denser near the centre of the central Stadtbezirk."""
    central = [g for g, b in zip(city.geoms, city.bezirk) if b == CENTRE_BEZIRK]
    centre = shapely.union_all(central).centroid if central else city.city.centroid
    minx, miny, maxx, maxy = city.city.bounds
    xs, ys = [], []
    while len(xs) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(city.city, x, y):
            continue
        d = float(np.hypot(x - centre.x, y - centre.y))
        if rng.uniform() < np.exp(-d / 3500.0) + 0.05:
            xs.append(x)
            ys.append(y)
    return np.array(xs), np.array(ys)


def demo_frame(con, seed: int = 17) -> pd.DataFrame:
    city = city_geometry(con)
    rng = np.random.default_rng(seed)
    rows = []
    for name, _ind, _r, n, places in CATEGORIES:
        x, y = _places(city, n, rng)
        lon, lat = to_wgs_xy(x, y)
        where = dict(zip(city.ids, city.names))
        for k, (lo, la, sr) in enumerate(zip(lon, lat, city.locate(x, y)), start=1):
            beginn = int(rng.choice([2005, 2010, 2015, 2018, 2020, 2022, 2024]))
            ende = 2021 if k % 11 == 0 else None  # a few closed offers: they count only until 2021
            beginn = min(beginn, 2015) if ende else beginn
            rows.append({"Id": f"{name[:3].upper()}-{k:02d}", "Name": f"{name} {where.get(sr, '')} {k} (Beispiel)",
                         "Kategorie": name, "Träger": TRAEGER[int(rng.integers(len(TRAEGER)))],
                         "Adresse": f"Beispielweg {k}, Hagen", "Plätze": int(rng.integers(*places)) if places else None,
                         "Zielgruppe": "Kinder und Familien", "Beginn": f"{beginn}-08-01",
                         "Ende": f"{ende}-07-31" if ende else None,
                         "Breitengrad": round(float(la), 6), "Längengrad": round(float(lo), 6)})
    out = pd.DataFrame(rows)
    out["Plätze"] = out["Plätze"].astype("Int64")
    return out


def load_demo_offers(con) -> dict:
    """Categories and offers of the demo city (through the importer: preview, checks, history, audit)."""
    from quartier import db

    with db.transaction(con) as cur:  # the demo replaces the city: its offers start afresh
        for table in ("angebot", "angebot_verlauf", "angebot_kategorie", "angebot_netz", "angebot_szenario"):
            cur.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    catalogue.save(con, [{"name": n, "zielgruppe_indikator": ind, "radius_m": r} for n, ind, r, _n, _p in CATEGORIES],
                   actor=DEMO_ACTOR)
    import tempfile

    from quartier.tables import write_table

    with tempfile.TemporaryDirectory() as tmp:  # the list goes through the importer like a city's own file
        path = Path(tmp) / "angebote_beispiel.csv"
        write_table(demo_frame(con), path)
        rep = importer.analyse(con, importer.read_file(path), path.name)
    return importer.commit(con, rep, actor=DEMO_ACTOR)
