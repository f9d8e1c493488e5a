"""Map commands: the corridor analysis of the map page, and the geometry export."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from quartier import db
from quartier import format as fmt
from quartier.access import SYSTEM
from quartier.areas import corridor
from quartier.areas import geometry as geo
from quartier.cli.base import UsageError, emit_json, say


def register(sub, common) -> None:
    p = sub.add_parser(
        "corridor", parents=[common], help="Korridor-Analyse: Kennzahl entlang einer Achse (z. B. einer Bundesstraße) gegenüber der übrigen Stadt",
        description="Vergleicht eine Kennzahl in den Sozialräumen entlang einer Achse mit der übrigen Stadt. Ein "
                    "Sozialraum gehört zum Korridor, wenn mindestens der Flächenanteil --share innerhalb von --width "
                    "Metern um die Achse liegt (gerechnet in ETRS89/UTM 32N). Quoten werden mit dem Nenner gewichtet "
                    "(Summe der Zähler / Summe der Nenner).")
    p.add_argument("--indicator", required=True, metavar="ID", help="Indikator-Id wie im Indikatorenkatalog")
    p.add_argument("--year", required=True, type=int, metavar="JAHR", help="Berichtsjahr")
    p.add_argument("--width", required=True, type=float, metavar="METER", help="Korridorbreite in Metern je Seite der Achse")
    p.add_argument("--share", type=float, default=0.25, metavar="ANTEIL",
                   help="Mindestanteil der Fläche im Korridor, 0 bis 1 (Standard 0.25)")
    p.add_argument("--axis", metavar="NAME", help="Name der Achse (Standard: die erste Achse nach Namen)")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="auch vergleichen, wenn für das Jahr nicht alle erwarteten Sozialräume geliefert haben")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    p.set_defaults(func=cmd_corridor)

    # `export geometry` joins the `export` group that quartier.commands.core registers first.
    export = sub.choices.get("export")
    if export is not None:
        groups = [a for a in export._actions if isinstance(a, argparse._SubParsersAction)]
        if groups:
            register_export(groups[0], common)


def cmd_corridor(args) -> int:
    from quartier.areas import corridor_stats

    con = db.connect(args.db)
    try:
        geom = corridor.load_geometry(con)
        res = corridor.analyse(con, args.indicator, args.year, args.width, args.share, args.axis, actor=SYSTEM,
                               geometry=geom, allow_incomplete=args.allow_incomplete)
    except corridor.CorridorError as exc:
        raise UsageError(str(exc)) from exc
    test = corridor_stats.for_result(geom, res)
    if args.json:
        emit_json({**res.to_json(), "test": test.test_json(), "moran": test.moran_json()})
        return 0
    say(res.sentence)
    say(corridor_stats.sentence(test, res.axis))
    dec = res.dec  # the indicator's decimals (catalogue ``dezimalstellen``)
    print(f"{'Id':<6} {'Sozialraum':<34} {'Anteil':>7} {'Abstand':>9} {'Wert':>10}  Korridor")
    for r in res.areas.sort_values("distance_m").to_dict("records"):
        print(f"{r['sozialraum_id']:<6} {r['name'][:34]:<34} {fmt.number(r['area_share'] * 100, 0):>5} % "
              f"{fmt.integer(r['distance_m']):>7} m {fmt.value(r['wert'], res.unit, dec, suppressed=r['gesperrt']):>10}  "
              f"{'ja' if r['in_corridor'] else 'nein'}")
    return 0


def geometry_collection(con) -> dict:
    """Sozialräume (id, name, Stadtbezirk) and axes as one GeoJSON FeatureCollection in WGS84."""
    areas = db.query_df(con, "SELECT s.id, s.name, b.name AS stadtbezirk, s.geometry FROM sozialraum s"
                             " LEFT JOIN stadtbezirk b ON b.id = s.bezirk_id ORDER BY b.nr, s.id")
    axes = db.query_df(con, "SELECT name, geometry FROM achse ORDER BY name")
    feats = [{"type": "Feature", "properties": {"art": "sozialraum", "id": r["id"], "name": r["name"],
                                                "stadtbezirk": r["stadtbezirk"]},
              "geometry": json.loads(r["geometry"])} for r in areas.to_dict("records")]
    feats += [{"type": "Feature", "properties": {"art": "achse", "name": r["name"]},
               "geometry": json.loads(r["geometry"])} for r in axes.to_dict("records")]
    return geo.feature_collection(feats)


def cmd_export_geometry(args) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".geojson", ".json"):
        raise UsageError(f"Unbekannte Dateiendung {out.suffix!r}: bitte .geojson verwenden.")
    con = db.connect(args.db)
    doc = geometry_collection(con)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    n_a = sum(f["properties"]["art"] == "sozialraum" for f in doc["features"])
    say(f"Geometrie geschrieben: {out} ({n_a} Sozialräume, {len(doc['features']) - n_a} Achsen, WGS84)")
    return 0


def register_export(esub, common) -> None:
    """Adds ``export geometry`` to the ``export`` group of quartier.commands.core."""
    pg = esub.add_parser("geometry", parents=[common], help="Sozialräume und Achsen als GeoJSON (WGS84)",
                         description="Schreibt die Sozialräume (id, name, stadtbezirk) und die Achsen als eine "
                                     "GeoJSON-FeatureCollection in WGS84; die Eigenschaft art unterscheidet "
                                     "sozialraum und achse.")
    pg.add_argument("--out", required=True, metavar="DATEI.geojson", help="Zieldatei (.geojson)")
    pg.set_defaults(func=cmd_export_geometry)
