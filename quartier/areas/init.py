"""Setting up a city from its small areas (the ``init`` command)."""

from __future__ import annotations

import json

from quartier import db
from quartier.areas import geometry as geo
from quartier.areas import versions


def replace_geometry(con, areas: list[geo.Area], axis=None, axis_name: str | None = None,
                     city: str | None = None, user: str = "system") -> dict:
    """Replace Stadtbezirke, Sozialräume (and the named axis) in one transaction.

    A new city gets Gebietsstand 1; otherwise the current Gebietsstand's areas are replaced
    (a new, dated Gebietsstand is ``gebiete neu``: :func:`quartier.areas.versions.create_version`).
    """
    with db.transaction(con) as cur:
        n_bezirke = versions.write_areas(cur, areas)
        if axis is not None:
            cur.execute("DELETE FROM achse WHERE name = ?", [axis_name])
            cur.execute("INSERT INTO achse (name, geometry) VALUES (?, ?)", [axis_name, geo.geom_to_text(axis)])
        version = versions.after_init(cur, user)
        if city:
            db.set_setting(cur, "stadt", city)
        db.set_setting(cur, "demo", "0")
        db.audit(cur, user, "stadt_einrichten", city, json.dumps({"gebiete": len(areas), "achse": axis_name}))
    return {"sozialraeume": len(areas), "stadtbezirke": n_bezirke, "axis": axis_name, "gebietsstand": version}
