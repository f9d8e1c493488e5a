"""Gebietsstände: dated versions of the small areas (Issue 19).

The current version is the newest (highest id); ``sozialraum``/``stadtbezirk`` always hold it, so every
other module keeps reading them. Earlier versions live on in ``sozialraum_version``; their values are
re-allocated to today's areas through ``gebietsstand_schluessel`` and stored (``quartier.values.realloc``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import shapely

from quartier import db
from quartier.areas import crosswalk
from quartier.areas import geometry as geo
from quartier.errors import QuartierError
from quartier.names import normalize
from quartier.values import realloc


class VersionError(QuartierError):
    """A Gebietsstand cannot be created or used; the message says why (German)."""


def current_id(con: db.Con) -> int:
    """Id of the current Gebietsstand, 0 when the database has none yet."""
    row = con.cursor().execute("SELECT coalesce(max(id), 0) FROM gebietsstand").fetchone()
    return int(row[0]) if row else 0


def versions(con: db.Con) -> pd.DataFrame:
    """All Gebietsstände with their number of areas and deliveries, oldest first."""
    cur_id = current_id(con)
    df = db.query_df(
        con,
        "SELECT g.id, g.name, g.gueltig_ab, g.angelegt_am, g.angelegt_von,"
        " (SELECT count(*) FROM sozialraum_version s WHERE s.gebietsstand_id = g.id) AS sozialraeume,"
        " (SELECT count(*) FROM lieferung l LEFT JOIN lieferung_gebietsstand x ON x.lieferung_id = l.id"
        "   WHERE coalesce(x.gebietsstand_id, ?) = g.id) AS lieferungen"
        " FROM gebietsstand g ORDER BY g.id",
        [cur_id],
    )
    df["aktuell"] = df["id"] == cur_id
    return df


def versions_json(con: db.Con) -> list[dict[str, Any]]:
    out = []
    for r in versions(con).to_dict("records"):
        out.append({"id": int(r["id"]), "name": r["name"], "gueltig_ab": str(r["gueltig_ab"])[:10],
                    "angelegt_am": str(r["angelegt_am"])[:19], "angelegt_von": r["angelegt_von"],
                    "sozialraeume": int(r["sozialraeume"]), "lieferungen": int(r["lieferungen"]),
                    "aktuell": bool(r["aktuell"])})
    return out


def write_areas(cur: db.Con, areas: list[geo.Area]) -> int:
    """Replace Stadtbezirke and Sozialräume (and their name aliases) with ``areas``; the number of Stadtbezirke."""
    bezirke: dict[str, list] = {}
    for a in areas:
        if a.bezirk:
            bezirke.setdefault(a.bezirk, []).append(a.geom)
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
    return len(bezirke)


def _snapshot(cur: db.Con, version_id: int) -> None:
    """Copy the current areas (``sozialraum``) as the areas of ``version_id``."""
    cur.execute("DELETE FROM sozialraum_version WHERE gebietsstand_id = ?", [version_id])
    cur.execute("INSERT INTO sozialraum_version (gebietsstand_id, id, name, bezirk_id, geometry)"
                " SELECT ?, id, name, bezirk_id, geometry FROM sozialraum", [version_id])


def ensure_first(cur: db.Con, user: str = "system", valid_from: dt.date | None = None) -> int:
    """Make the current areas version 1 when the database has areas but no Gebietsstand yet; the current id."""
    row = cur.execute("SELECT coalesce(max(id), 0), (SELECT count(*) FROM sozialraum) FROM gebietsstand").fetchone()
    have, n_areas = (int(row[0]), int(row[1])) if row else (0, 0)
    if have or not n_areas:
        return have
    first = cur.execute("SELECT min(importiert_am)::DATE FROM lieferung").fetchone()
    start = valid_from or (first[0] if first and first[0] else dt.date.today())
    cur.execute("INSERT INTO gebietsstand (id, name, gueltig_ab, angelegt_von) VALUES (1, 'Gebietsstand 1', ?, ?)",
                [start, user])
    _snapshot(cur, 1)
    return 1


def reset(cur: db.Con, user: str = "system") -> None:
    """Forget every Gebietsstand and make the current areas version 1 (a new city, e.g. the demo)."""
    for table in ("gebietsstand_schluessel", "lieferung_gebietsstand", "sozialraum_version", "gebietsstand"):
        cur.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    ensure_first(cur, user)


def after_init(cur: db.Con, user: str = "system") -> int:
    """``init`` replaced the areas: version 1 for a new city, otherwise the current version's areas replaced
    (its derived crosswalks from earlier versions are computed anew; official key tables stay)."""
    have = int(cur.execute("SELECT coalesce(max(id), 0) FROM gebietsstand").fetchone()[0])  # type: ignore[index]
    if not have:
        return ensure_first(cur, user)
    _snapshot(cur, have)
    for old in [r[0] for r in cur.execute("SELECT id FROM gebietsstand WHERE id < ?", [have]).fetchall()]:
        derived = cur.execute("SELECT count(*) FROM gebietsstand_schluessel WHERE von = ? AND nach = ? AND basis = 'amtlich'",
                              [old, have]).fetchone()
        if derived and int(derived[0]) == 0:
            _store_crosswalk(cur, crosswalk.derive(cur, old, have))
    realloc.refresh(cur)
    return have


def _store_crosswalk(cur: db.Con, cw: crosswalk.Crosswalk) -> None:
    cur.execute("DELETE FROM gebietsstand_schluessel WHERE von = ? AND nach = ?", [cw.von, cw.nach])
    frame = cw.table.assign(von=cw.von, nach=cw.nach)[["von", "nach", "alt_id", "neu_id", "anteil", "basis", "gewicht"]]
    cur.register("_gs_key", frame)
    cur.execute("INSERT INTO gebietsstand_schluessel SELECT * FROM _gs_key")
    cur.unregister("_gs_key")


def create_version(con: db.Con, areas: list[geo.Area], valid_from: dt.date, *, user: str, name: str | None = None,
                   points: Any = None) -> dict[str, Any]:
    """Add a Gebietsstand from ``areas`` and make it current: the deliveries so far keep their version, the
    current tables get the new areas, and a crosswalk from every earlier version to the new one is derived."""
    with db.transaction(con) as cur:
        prev = ensure_first(cur, user)
        if not prev:
            raise VersionError("Es gibt noch keine Gebiete: bitte zuerst `init` ausführen.")
        # version 1 has no real start (it is dated by its first import); later ones must follow each other
        last = cur.execute("SELECT max(gueltig_ab) FROM gebietsstand WHERE id > 1").fetchone()
        if last and last[0] and valid_from <= last[0]:
            raise VersionError(f"Der neue Gebietsstand muss nach dem bisherigen gelten (ab {last[0]:%d.%m.%Y}); "
                               f"angegeben: {valid_from:%d.%m.%Y}.")
        new_id = prev + 1
        # every delivery so far stays in the version it was delivered in
        cur.execute("INSERT INTO lieferung_gebietsstand (lieferung_id, gebietsstand_id)"
                    " SELECT id, ? FROM lieferung WHERE id NOT IN (SELECT lieferung_id FROM lieferung_gebietsstand)", [prev])
        cur.execute("INSERT INTO gebietsstand (id, name, gueltig_ab, angelegt_von) VALUES (?, ?, ?, ?)",
                    [new_id, name or f"Gebietsstand {new_id}", valid_from, user])
        write_areas(cur, areas)
        _snapshot(cur, new_id)
        bases = {}
        for old in [r[0] for r in cur.execute("SELECT id FROM gebietsstand WHERE id < ? ORDER BY id", [new_id]).fetchall()]:
            cw = crosswalk.derive(cur, old, new_id, points=points)
            _store_crosswalk(cur, cw)
            bases[int(old)] = cw.basis
        realloc.refresh(cur)  # every earlier value now goes to the new areas
        db.audit(cur, user, "gebietsstand_anlegen", f"gebietsstand:{new_id}",
                 json.dumps({"gueltig_ab": str(valid_from), "gebiete": len(areas), "schluessel": bases}))
    return {"id": new_id, "gueltig_ab": str(valid_from), "sozialraeume": len(areas), "vorher": prev,
            "schluessel": {str(k): v for k, v in bases.items()}}


def load_key(con: db.Con, table: pd.DataFrame, von: int, nach: int, *, user: str) -> dict[str, Any]:
    """Store an official key table (alt_id, neu_id, anteil) for ``von`` -> ``nach``; it replaces the derived one."""
    with db.transaction(con) as cur:
        cw = crosswalk.official(cur, table, von, nach)
        _store_crosswalk(cur, cw)
        realloc.refresh(cur)
        db.audit(cur, user, "gebietsstand_schluessel_laden", f"{von}->{nach}", json.dumps({"zeilen": len(cw.table)}))
    return {"von": von, "nach": nach, "zeilen": len(cw.table), "basis": cw.basis}


def key_table(con: db.Con, von: int, nach: int) -> pd.DataFrame:
    """The stored crosswalk ``von`` -> ``nach`` (alt_id, neu_id, anteil, basis)."""
    return db.query_df(con, "SELECT alt_id, neu_id, anteil, basis FROM gebietsstand_schluessel WHERE von = ? AND nach = ?"
                            " ORDER BY alt_id, neu_id", [int(von), int(nach)])


def set_delivery_version(cur: db.Con, lieferung_id: int, version_id: int) -> None:
    """Record that a delivery was delivered in ``version_id`` (chosen at import)."""
    ok = cur.execute("SELECT count(*) FROM gebietsstand WHERE id = ?", [int(version_id)]).fetchone()
    if not ok or not int(ok[0]):
        raise VersionError(f"Gebietsstand {version_id} gibt es nicht (siehe `gebiete versionen`).")
    cur.execute("INSERT INTO lieferung_gebietsstand (lieferung_id, gebietsstand_id) VALUES (?, ?)"
                " ON CONFLICT (lieferung_id) DO UPDATE SET gebietsstand_id = excluded.gebietsstand_id",
                [int(lieferung_id), int(version_id)])
    realloc.refresh(cur)


def version_areas(con: db.Con, version_id: int) -> pd.DataFrame:
    """Areas of one version (id, name, bezirk_id, geometry as GeoJSON text)."""
    return db.query_df(con, "SELECT id, name, bezirk_id, geometry FROM sozialraum_version WHERE gebietsstand_id = ?"
                            " ORDER BY id", [int(version_id)])


def change_notice(con: db.Con) -> str | None:
    """``Werte vor JJJJ auf heutige Sozialräume umgerechnet`` when values of an earlier version are shown today."""
    row = con.cursor().execute(
        "SELECT g.gueltig_ab FROM gebietsstand g WHERE g.id = (SELECT max(id) FROM gebietsstand)"
        " AND EXISTS (SELECT 1 FROM lieferung_gebietsstand x JOIN lieferung l ON l.id = x.lieferung_id"
        "             WHERE l.status = 'aktiv' AND x.gebietsstand_id < g.id)").fetchone()
    if not row or row[0] is None:
        return None
    return f"Werte vor {row[0].year} auf heutige Sozialräume umgerechnet"


CHANGE_KINDS = ("unverändert", "geteilt", "zusammengelegt", "verschoben", "neu")


def changes(con: db.Con, von: int, nach: int) -> pd.DataFrame:
    """What happened to every area of ``nach`` relative to ``von``: neu_id, name, art (CHANGE_KINDS), quellen.

    unverändert: same id, takes one old area whole; zusammengelegt: takes the bulk of several old areas
    (share > 0.5 each); geteilt: takes part of one old area that was split; verschoben: boundaries moved."""
    key = db.query_df(con, "SELECT alt_id, neu_id, anteil, coalesce(gewicht / nullif(sum(gewicht) OVER (PARTITION BY neu_id), 0), 0)"
                           " AS anteil_neu FROM gebietsstand_schluessel WHERE von = ? AND nach = ?", [int(von), int(nach)])
    new = version_areas(con, nach)[["id", "name"]]
    out = []
    for rec in new.to_dict("records"):
        k = key[(key["neu_id"] == rec["id"]) & (key["anteil_neu"] >= 0.01)]
        whole = k[k["anteil"] > 0.95]
        if k.empty:
            art = "neu"
        elif len(k) == 1 and len(whole) == 1 and k["alt_id"].iloc[0] == rec["id"] and k["anteil_neu"].iloc[0] > 0.95:
            art = "unverändert"
        elif (k["anteil"] > 0.5).sum() >= 2:
            art = "zusammengelegt"
        elif len(k) == 1 and k["anteil"].iloc[0] < 0.95:
            art = "geteilt"
        else:
            art = "verschoben"
        quellen = ", ".join(f"{a} ({s:.0%})".replace(".", ",") for a, s in zip(k["alt_id"], k["anteil"], strict=True))
        out.append({"neu_id": rec["id"], "name": rec["name"], "art": art, "quellen": quellen})
    return pd.DataFrame(out, columns=["neu_id", "name", "art", "quellen"])
