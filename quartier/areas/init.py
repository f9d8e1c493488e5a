"""Setting up a city from its small areas (the ``init`` command)."""

from __future__ import annotations

import json

import shapely

from quartier import db
from quartier.areas import geometry as geo
from quartier.names import normalize


def replace_geometry(con, areas: list[geo.Area], axis=None, axis_name: str | None = None,
                     city: str | None = None, user: str = "system") -> dict:
    """Replace Stadtbezirke, Sozialräume (and the named axis) in one transaction."""
    bezirke: dict[str, list] = {}
    for a in areas:
        if a.bezirk:
            bezirke.setdefault(a.bezirk, []).append(a.geom)
    with db.transaction(con) as cur:
        cur.execute("DELETE FROM sozialraum")
        cur.execute("DELETE FROM stadtbezirk")
        cur.execute("DELETE FROM alias WHERE art = 'sozialraum'")
        for nr, (name, geoms) in enumerate(sorted(bezirke.items()), start=1):
            union = geo.to_wgs84(shapely.union_all([geo.to_metric(g) for g in geoms]).buffer(0))
            cur.execute("INSERT INTO stadtbezirk (id, nr, name, geometry) VALUES (?, ?, ?, ?)",
                        [normalize(name) or str(nr), nr, name, geo.geom_to_text(union)])
        for a in areas:
            lon, lat = geo.centroid(a.geom)
            cur.execute(
                "INSERT INTO sozialraum (id, name, bezirk_id, geometry, centroid_lon, centroid_lat, flaeche_km2)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [a.id, a.name, normalize(a.bezirk) if a.bezirk else None, geo.geom_to_text(a.geom), lon, lat,
                 geo.area_km2(a.geom)],
            )
            cur.execute("INSERT INTO alias (art, alias_norm, ziel_id, alias) VALUES ('sozialraum', ?, ?, ?)"
                        " ON CONFLICT DO NOTHING", [normalize(a.name), a.id, a.name])
        if axis is not None:
            cur.execute("DELETE FROM achse WHERE name = ?", [axis_name])
            cur.execute("INSERT INTO achse (name, geometry) VALUES (?, ?)", [axis_name, geo.geom_to_text(axis)])
        if city:
            db.set_setting(cur, "stadt", city)
        db.set_setting(cur, "demo", "0")
        db.audit(cur, user, "stadt_einrichten", city, json.dumps({"gebiete": len(areas), "achse": axis_name}))
    return {"sozialraeume": len(areas), "stadtbezirke": len(bezirke), "axis": axis_name}
