"""GeoJSON in and out, validation, repair, projection, centroids and distances to an axis.

Geometry is stored as GeoJSON text in WGS84 (lon/lat). Metric work (areas, distances, corridors)
happens in ETRS89 / UTM 32N (EPSG:25832).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape
from shapely.ops import transform as shp_transform
from shapely.validation import make_valid

from quartier import uploads
from quartier.errors import QuartierError

METRIC_CRS = "EPSG:25832"
SUPPORTED_CRS = {
    "EPSG:4326": "EPSG:4326",
    "CRS84": "EPSG:4326",
    "EPSG:25832": "EPSG:25832",
    "EPSG:25833": "EPSG:25833",
}


class GeoError(QuartierError):
    """Unusable geometry input; the message is German and says what to do."""


@dataclass
class Area:
    id: str
    name: str
    bezirk: str | None
    geom: shapely.Geometry  # WGS84


@dataclass
class GeoReadResult:
    areas: list[Area]
    warnings: list[str] = field(default_factory=list)
    source_crs: str = "EPSG:4326"


@lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def reproject(geom, src: str, dst: str):
    if src == dst:
        return geom
    t = _transformer(src, dst)
    return shp_transform(t.transform, geom)


def to_metric(geom):
    """WGS84 -> ETRS89/UTM 32N."""
    return reproject(geom, "EPSG:4326", METRIC_CRS)


def to_wgs84(geom, src: str = METRIC_CRS):
    return reproject(geom, src, "EPSG:4326")


def detect_crs(doc: dict, path: str = "") -> str:
    """The CRS named in a GeoJSON document (default WGS84), or GeoError for anything unsupported."""
    crs = doc.get("crs")
    if not crs:
        return "EPSG:4326"
    name = str((crs.get("properties") or {}).get("name", ""))
    up = name.upper()
    if up.endswith("CRS84") or up.endswith("CRS:84"):
        return "EPSG:4326"
    for code in ("4326", "25832", "25833"):
        if up.endswith(f"EPSG::{code}") or up.endswith(f"EPSG:{code}"):
            return f"EPSG:{code}"
    raise GeoError(
        f"{path}: Koordinatensystem {name!r} wird nicht unterstützt. Erlaubt sind WGS84 (EPSG:4326/CRS84) "
        "und ETRS89/UTM (EPSG:25832, EPSG:25833). Bitte die Datei z. B. mit QGIS nach EPSG:4326 umprojizieren."
    )


def load_geojson(path: str | Path) -> dict:
    p = Path(path)
    if not p.exists():
        raise GeoError(f"Datei {p} nicht gefunden.")
    try:
        raw = uploads.read_path(p)  # regular files only, the upload size limit
    except uploads.FileRejected as exc:
        raise GeoError(f"{p}: {exc}") from exc
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GeoError(f"{p}: keine gültige GeoJSON-Datei ({exc}). Bitte eine GeoJSON-Datei (.geojson) angeben.") from exc
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise GeoError(f"{p}: kein GeoJSON (FeatureCollection erwartet). Bitte eine GeoJSON-Datei angeben.")
    if doc["type"] == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc], "crs": doc.get("crs")}
    return doc


def _plausible_lonlat(geom) -> bool:
    minx, miny, maxx, maxy = geom.bounds
    return -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90


def read_areas(
    path: str | Path, id_field: str, name_field: str, bezirk_field: str | None = None
) -> GeoReadResult:
    """Read small areas (Polygon/MultiPolygon) from GeoJSON, validated, repaired and in WGS84."""
    p = str(path)
    doc = load_geojson(path)
    crs = detect_crs(doc, p)
    features = doc.get("features") or []
    if not features:
        raise GeoError(f"{p}: die Datei enthält keine Flächen (Features).")
    areas: list[Area] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for i, feat in enumerate(features, start=1):
        props = feat.get("properties") or {}
        label = f"{p}, Feature {i}"
        if id_field not in props or props[id_field] in (None, ""):
            avail = ", ".join(sorted(props)) or "keine"
            raise GeoError(
                f"{label}: das Id-Feld {id_field!r} fehlt oder ist leer. Vorhandene Felder: {avail}. "
                "Bitte --id-field passend angeben oder die Id ergänzen."
            )
        fid = str(props[id_field]).strip()
        label = f"{p}, Feature {i} (Id {fid})"
        if fid in seen:
            raise GeoError(f"{label}: die Id {fid!r} kommt doppelt vor (auch Feature {seen[fid]}). Ids müssen eindeutig sein.")
        seen[fid] = i
        if name_field not in props or props[name_field] in (None, ""):
            raise GeoError(f"{label}: das Namensfeld {name_field!r} fehlt oder ist leer. Bitte --name-field prüfen.")
        bezirk = None
        if bezirk_field:
            if props.get(bezirk_field) in (None, ""):
                raise GeoError(f"{label}: das Bezirksfeld {bezirk_field!r} fehlt oder ist leer.")
            bezirk = str(props[bezirk_field]).strip()
        gj = feat.get("geometry")
        if not gj:
            raise GeoError(f"{label}: ohne Geometrie. Jede Fläche braucht ein Polygon.")
        if gj.get("type") not in ("Polygon", "MultiPolygon"):
            raise GeoError(
                f"{label}: Geometrietyp {gj.get('type')!r} wird nicht unterstützt; erwartet werden Flächen "
                "(Polygon oder MultiPolygon), keine Punkte oder Linien."
            )
        try:
            geom = shape(gj)
        except Exception as exc:  # noqa: BLE001 - shapely raises several types
            raise GeoError(f"{label}: Geometrie nicht lesbar ({exc}).") from exc
        if geom.is_empty:
            raise GeoError(f"{label}: die Geometrie ist leer.")
        if crs == "EPSG:4326" and not _plausible_lonlat(geom):
            raise GeoError(
                f"{label}: die Koordinaten sind keine Längen-/Breitengrade, die Datei nennt aber kein "
                "Koordinatensystem. Bitte das Koordinatensystem (crs) in der Datei angeben oder nach EPSG:4326 umprojizieren."
            )
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            geom = make_valid(geom)
            geom = _polygonal(geom)
            warnings.append(f"{label}: ungültige Geometrie repariert ({reason}).")
        geom = to_wgs84(geom, crs) if crs != "EPSG:4326" else geom
        geom = _polygonal(geom)
        areas.append(Area(fid, str(props[name_field]).strip(), bezirk, geom))
    return GeoReadResult(areas, warnings, crs)


def _polygonal(geom):
    """Keep only the polygon parts of a (repaired) geometry."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        if polys:
            return shapely.union_all(polys)
    raise GeoError("Geometrie ist nach der Reparatur keine Fläche mehr.")


def read_axis(path: str | Path):
    """Read a line axis (LineString/MultiLineString features) as one WGS84 geometry."""
    p = str(path)
    doc = load_geojson(path)
    crs = detect_crs(doc, p)
    lines = []
    for i, feat in enumerate(doc.get("features") or [], start=1):
        gj = feat.get("geometry") or {}
        if gj.get("type") not in ("LineString", "MultiLineString"):
            raise GeoError(f"{p}, Feature {i}: eine Achse muss aus Linien bestehen (LineString), nicht {gj.get('type')!r}.")
        lines.append(shape(gj))
    if not lines:
        raise GeoError(f"{p}: die Achsen-Datei enthält keine Linien.")
    geom = shapely.union_all(lines) if len(lines) > 1 else lines[0]
    geom = shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
    return to_wgs84(geom, crs) if crs != "EPSG:4326" else geom


def geom_to_text(geom) -> str:
    return json.dumps(mapping(geom), separators=(",", ":"))


def geom_from_text(text: str):
    return shape(json.loads(text))


def area_km2(geom_wgs84) -> float:
    return to_metric(geom_wgs84).area / 1e6


def centroid(geom_wgs84) -> tuple[float, float]:
    """A point inside the area (representative point), as (lon, lat)."""
    c = to_wgs84(to_metric(geom_wgs84).representative_point())
    return c.x, c.y


def distance_m(geom_wgs84, axis_wgs84) -> float:
    return to_metric(geom_wgs84).distance(to_metric(axis_wgs84))


def corridor_share(area_wgs84, axis_wgs84, width_m: float) -> float:
    """Share (0..1) of an area's surface within ``width_m`` metres of the axis."""
    a = to_metric(area_wgs84)
    if a.area == 0:
        return 0.0
    buf = to_metric(axis_wgs84).buffer(width_m)
    return float(a.intersection(buf).area / a.area)


def simplify(geom_wgs84, tolerance_m: float):
    """Topology-preserving simplification with a tolerance in metres."""
    return to_wgs84(to_metric(geom_wgs84).simplify(tolerance_m, preserve_topology=True))


def feature_collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}
