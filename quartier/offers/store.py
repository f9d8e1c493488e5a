"""Reading offers, the city geometry in metres (cached), the footpath network and named scenarios."""

from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from quartier import access, db
from quartier.access import Actor
from quartier.areas import geometry as geo
from quartier.errors import InputError

METRIC = geo.METRIC_CRS
OFFER_COLUMNS = ["id", "name", "kategorie", "traeger", "adresse", "plaetze", "zielgruppe", "beginn", "ende",
                 "lon", "lat", "sozialraum_id", "empfehlung_nr", "status"]
_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
_TO_WGS = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
_LOCK = threading.Lock()
_CACHE: dict[tuple, CityGeometry] = {}


class OfferError(InputError):
    """An offer operation cannot be done (German message)."""


def to_metric_xy(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    x, y = _TO_METRIC.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def to_wgs_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _TO_WGS.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


@dataclass
class CityGeometry:
    """The Sozialräume in metres (EPSG:25832) with a spatial index; the city as their union."""

    ids: list[str]
    names: list[str]
    bezirk: list[str | None]
    geoms: np.ndarray           # shapely polygons, metres
    areas_m2: np.ndarray
    tree: shapely.STRtree
    city: shapely.Geometry
    bezirk_ids: list[str | None] = dataclasses.field(default_factory=list)

    def locate(self, x: np.ndarray, y: np.ndarray) -> list[str | None]:
        """The Sozialraum id containing each point (a point on a shared boundary: the first area), else None."""
        pts = shapely.points(x, y)
        out: list[str | None] = [None] * len(pts)
        if not len(pts):
            return out
        pi, ai = self.tree.query(pts, predicate="intersects")
        for p, a in zip(pi[::-1], ai[::-1]):  # reversed: the lowest area index wins
            out[int(p)] = self.ids[int(a)]
        return out


def city_geometry(con: db.Con) -> CityGeometry:
    """The metric city geometry, cached per database content (areas change rarely; parsing 10,000 is slow)."""
    cur = con.cursor()
    key = (str(cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]),
           *cur.execute("SELECT count(*), sum(hash(id || geometry || coalesce(bezirk_id, ''))) FROM sozialraum").fetchone())
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    df = db.query_df(con, "SELECT s.id, s.name, b.name AS bezirk, s.bezirk_id, s.geometry FROM sozialraum s"
                          " LEFT JOIN stadtbezirk b ON b.id = s.bezirk_id ORDER BY s.id")
    geoms = shapely.from_geojson(df["geometry"].tolist()) if len(df) else np.array([], dtype=object)
    geoms = shapely.transform(geoms, lambda c: np.column_stack(_TO_METRIC.transform(c[:, 0], c[:, 1])))
    geoms = shapely.make_valid(geoms)
    city = shapely.union_all(geoms) if len(geoms) else shapely.Polygon()
    cg = CityGeometry(list(df["id"]), list(df["name"]), [b if isinstance(b, str) else None for b in df["bezirk"]],
                      geoms, shapely.area(geoms), shapely.STRtree(geoms), city,
                      [b if isinstance(b, str) else None for b in df["bezirk_id"]])
    with _LOCK:
        _CACHE.clear()
        _CACHE[key] = cg
    return cg


def offers(con: db.Con, kategorie: str | None = None, year: int | None = None, *, actor: Actor,
           include_closed: bool = False) -> pd.DataFrame:
    """Offers (of one category; open in ``year`` when given). Offers are public facts: every role may see them."""
    where, params = [], []
    if not include_closed:  # for a year: a closed offer with a known end still counts in the years it was open
        where.append("(status = 'aktiv' OR ende IS NOT NULL)" if year is not None else "status = 'aktiv'")
    if kategorie:
        where.append("kategorie = ?")
        params.append(kategorie)
    if year is not None:
        where.append("(beginn IS NULL OR year(beginn) <= ?) AND (ende IS NULL OR year(ende) >= ?)")
        params += [int(year), int(year)]
    sql = f"SELECT {', '.join(OFFER_COLUMNS)} FROM angebot"  # noqa: S608 - fixed columns
    if where:
        sql += " WHERE " + " AND ".join(where)
    return db.query_df(con, sql + " ORDER BY kategorie, name, id", params)


def offers_in_area(con: db.Con, sozialraum_id: str, *, actor: Actor) -> pd.DataFrame:
    """The open offers of one Sozialraum (for the Steckbrief and Mein Bezirk)."""
    df = offers(con, actor=actor)
    today = date.today()
    df = df[df["sozialraum_id"] == sozialraum_id]
    ende = pd.to_datetime(df["ende"])
    return df[ende.isna() | (ende >= pd.Timestamp(today))].reset_index(drop=True)


def offers_in_district(con: db.Con, bezirk_id: str, *, actor: Actor) -> pd.DataFrame:
    """The open offers in the Sozialräume of one Stadtbezirk, with the area's name."""
    areas = db.query_df(con, "SELECT id, name FROM sozialraum WHERE bezirk_id = ?", [bezirk_id])
    df = offers(con, actor=actor)
    ende = pd.to_datetime(df["ende"])
    df = df[df["sozialraum_id"].isin(set(areas["id"])) & (ende.isna() | (ende >= pd.Timestamp(date.today())))]
    names = dict(zip(areas["id"], areas["name"]))
    return df.assign(sozialraum=df["sozialraum_id"].map(names)).sort_values(["sozialraum", "kategorie", "name"]) \
        .reset_index(drop=True)


def history(con: db.Con, angebot_id: str | None = None) -> pd.DataFrame:
    sql = "SELECT id, angebot_id, aktion, vorher, nachher, datei, benutzer, zeitpunkt FROM angebot_verlauf"
    if angebot_id:
        return db.query_df(con, sql + " WHERE angebot_id = ? ORDER BY id", [angebot_id])
    return db.query_df(con, sql + " ORDER BY id")


# ------------------------------------------------------------------------------------------------
# Footpath network


def load_network(con: db.Con, path: str | Path, *, actor: Actor) -> int:
    """Replace the footpath network with the lines of a GeoJSON file (WGS84 or ETRS89/UTM); returns the count."""
    access.require(actor, access.EDITOR, "das Fußwegenetz laden")
    doc = geo.load_geojson(path)
    crs = geo.detect_crs(doc, str(path))
    lines = []
    for f in doc.get("features") or []:
        g = shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None
        if g is None or g.geom_type not in ("LineString", "MultiLineString"):
            continue
        lines.append(geo.to_wgs84(g, crs) if crs != "EPSG:4326" else g)
    if not lines:
        raise OfferError(f"{path}: keine Linien gefunden. Das Fußwegenetz ist eine GeoJSON-Datei mit (Multi-)LineStrings.")
    with db.transaction(con) as cur:
        cur.execute("DELETE FROM angebot_netz")
        cur.executemany("INSERT INTO angebot_netz (nr, geometry, datei, geladen_von) VALUES (?, ?, ?, ?)",
                        [[i, geo.geom_to_text(g), Path(path).name, actor.name] for i, g in enumerate(lines)])
        db.audit(cur, actor.name, "angebot_netz_laden", Path(path).name, f"{len(lines)} Linien")
    return len(lines)


def clear_network(con: db.Con, *, actor: Actor) -> None:
    access.require(actor, access.EDITOR, "das Fußwegenetz entfernen")
    with db.transaction(con) as cur:
        cur.execute("DELETE FROM angebot_netz")
        db.audit(cur, actor.name, "angebot_netz_entfernen", None, None)


def network_lines(con: db.Con) -> np.ndarray:
    """The network lines in metres (empty array: no network)."""
    rows = [r[0] for r in con.cursor().execute("SELECT geometry FROM angebot_netz ORDER BY nr").fetchall()]
    if not rows:
        return np.array([], dtype=object)
    g = shapely.from_geojson(rows)
    return shapely.transform(g, lambda c: np.column_stack(_TO_METRIC.transform(c[:, 0], c[:, 1])))


# ------------------------------------------------------------------------------------------------
# Named scenarios


def save_scenario(con: db.Con, name: str, kategorie: str, planned: list[dict], *, actor: Actor) -> None:
    """Store a planning scenario under a name (nothing is stored unless this is called)."""
    access.require(actor, access.EDITOR, "ein Planungsszenario speichern")
    name = (name or "").strip()
    if not name:
        raise OfferError("Bitte einen Namen für das Szenario angeben.")
    payload = json.dumps([{k: p.get(k) for k in ("lon", "lat", "plaetze", "name")} for p in planned], ensure_ascii=False)
    with db.transaction(con) as cur:
        cur.execute("INSERT INTO angebot_szenario (name, kategorie, angebote, gespeichert_von, gespeichert_am)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET kategorie = excluded.kategorie,"
                    " angebote = excluded.angebote, gespeichert_von = excluded.gespeichert_von,"
                    " gespeichert_am = excluded.gespeichert_am",
                    [name, kategorie, payload, actor.name, datetime.now()])
        db.audit(cur, actor.name, "angebot_szenario_speichern", name, payload)


def scenarios(con: db.Con, kategorie: str | None = None) -> list[dict]:
    """The saved scenarios (of one category), by name. Planned offers are plans, not values: no actor needed."""
    sql = "SELECT name, kategorie, angebote, gespeichert_von, gespeichert_am FROM angebot_szenario"
    params: list = []
    if kategorie:
        sql += " WHERE kategorie = ?"
        params.append(kategorie)
    rows = con.cursor().execute(sql + " ORDER BY name", params).fetchall()
    return [{"name": r[0], "kategorie": r[1], "angebote": json.loads(r[2]), "von": r[3], "am": r[4]} for r in rows]


def load_scenario(con: db.Con, name: str) -> dict:
    """One saved scenario: {"name", "kategorie", "angebote": [{"lon", "lat", "plaetze", "name"}], "von", "am"}."""
    row = con.cursor().execute("SELECT name, kategorie, angebote, gespeichert_von, gespeichert_am FROM angebot_szenario"
                               " WHERE name = ?", [name]).fetchone()
    if row is None:
        raise OfferError(f"Ein Szenario „{name}“ gibt es nicht (mehr).")
    return {"name": row[0], "kategorie": row[1], "angebote": json.loads(row[2]), "von": row[3], "am": row[4]}


def delete_scenario(con: db.Con, name: str, *, actor: Actor) -> None:
    """Delete a saved scenario (staff; audited)."""
    access.require(actor, access.EDITOR, "ein Planungsszenario löschen")
    with db.transaction(con) as cur:
        row = cur.execute("SELECT angebote FROM angebot_szenario WHERE name = ?", [name]).fetchone()
        if row is None:
            raise OfferError(f"Ein Szenario „{name}“ gibt es nicht (mehr).")
        cur.execute("DELETE FROM angebot_szenario WHERE name = ?", [name])
        db.audit(cur, actor.name, "angebot_szenario_loeschen", name, row[0])
