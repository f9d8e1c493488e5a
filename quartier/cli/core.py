"""Core commands: init, indicators, export values, demo."""

from __future__ import annotations

import time
from pathlib import Path

from quartier import db
from quartier import demo as demo_texts  # names of the demo: only the demo package knows them
from quartier.access import SYSTEM
from quartier.areas import geometry as geo
from quartier.cli.base import Rejected, UsageError, default_user, emit_json, say
from quartier.tables import TableError, write_table
from quartier.values import indicators


def register(sub, common) -> None:
    p = sub.add_parser("init", parents=[common], help="eine Stadt aus einer GeoJSON-Datei ihrer Gebiete einrichten",
                       description="Richtet eine Stadt aus einer GeoJSON-Datei ihrer Sozialräume ein (Polygon/MultiPolygon, "
                                   "WGS84 oder ETRS89/UTM 32N/33N). Vorhandene Gebiete werden ersetzt.")
    p.add_argument("--geometry", required=True, metavar="DATEI.geojson", help="GeoJSON der kleinräumigen Gebiete")
    p.add_argument("--id-field", required=True, metavar="FELD", help="Eigenschaft mit der eindeutigen Gebiets-Id")
    p.add_argument("--name-field", required=True, metavar="FELD", help="Eigenschaft mit dem Gebietsnamen")
    p.add_argument("--bezirk-field", metavar="FELD", help="Eigenschaft mit dem Stadtbezirk (optional)")
    p.add_argument("--axis", metavar="DATEI.geojson", help="GeoJSON einer Achse (Linie), z. B. einer Straße")
    p.add_argument("--axis-name", metavar="NAME", help="Name der Achse, z. B. der Straße")
    p.add_argument("--city", metavar="NAME", help="Name der Stadt für die Oberfläche")
    p.add_argument("--user", default=default_user(), help="wer die Änderung vornimmt (Audit-Log)")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("indicators", parents=[common], help="Indikatorenkatalog laden oder exportieren",
                       description="Lädt oder exportiert den Indikatorenkatalog (CSV oder XLSX).")
    isub = p.add_subparsers(dest="action", title="Aktionen", metavar="AKTION")
    pl = isub.add_parser("load", parents=[common], help="Katalog aus CSV/XLSX laden oder aktualisieren")
    pl.add_argument("file", metavar="DATEI", help="Katalogdatei (.csv oder .xlsx)")
    pl.add_argument("--user", default=default_user(), help="wer die Änderung vornimmt (Audit-Log)")
    pl.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    pl.set_defaults(func=cmd_indicators_load)
    pe = isub.add_parser("export", parents=[common], help="Katalog als CSV/XLSX schreiben")
    pe.add_argument("--out", required=True, metavar="DATEI", help="Zieldatei (.csv oder .xlsx)")
    pe.add_argument("--sep", default=";", choices=[";", ","], help="Trennzeichen für CSV (Standard ;)")
    pe.set_defaults(func=cmd_indicators_export)

    p = sub.add_parser("export", parents=[common], help="Daten exportieren",
                       description="Exportiert Daten als CSV (UTF-8 mit BOM, ; getrennt) oder XLSX.")
    esub = p.add_subparsers(dest="what", title="Was", metavar="WAS")
    pv = esub.add_parser("values", parents=[common], help="aktuelle Kennzahlen, eine Zeile je Indikator, Sozialraum und Jahr")
    pv.add_argument("--out", required=True, metavar="DATEI", help="Zieldatei (.csv oder .xlsx)")
    pv.add_argument("--sep", default=";", choices=[";", ","], help="Trennzeichen für CSV (Standard ;)")
    pv.add_argument("--public", action="store_true",
                    help="nur was Betrachtende sehen dürfen: mit Stadtbezirks- und Stadtzeilen, geschützte Werte leer und als gesperrt markiert")
    pv.add_argument("--gebietsstand", default="aktuell", choices=["aktuell", "original"],
                    help="aktuell (Standard): alle Jahre auf den heutigen Sozialräumen, umgerechnete Werte in der Spalte "
                         "umgerechnet markiert; original: die Werte, wie sie geliefert wurden, mit ihrem Gebietsstand")
    pv.set_defaults(func=cmd_export_values)

    p = sub.add_parser("demo", parents=[common], help=demo_texts.COMMAND_HELP, description=demo_texts.COMMAND_DESCRIPTION)
    p.add_argument("--force", action="store_true", help="vorhandene Daten ersetzen (vorher wird gesichert)")
    p.add_argument("--bestaetigen", metavar="STADT", help="Name der Stadt: nötig, um eine Datenbank zu ersetzen, die keine Demo ist")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    p.set_defaults(func=cmd_demo)


def cmd_init(args) -> int:
    if bool(args.axis) != bool(args.axis_name):
        raise UsageError("--axis und --axis-name gehören zusammen: bitte beide angeben.")
    try:
        res = geo.read_areas(args.geometry, args.id_field, args.name_field, args.bezirk_field)
        axis = geo.read_axis(args.axis) if args.axis else None
    except geo.GeoError as exc:
        raise UsageError(str(exc)) from exc
    for w in res.warnings:
        say(f"Warnung: {w}")
    con = db.connect(args.db)
    from quartier.areas.init import replace_geometry

    summary = replace_geometry(con, res.areas, axis, args.axis_name, city=args.city, user=args.user)
    summary["warnings"] = res.warnings
    summary["crs"] = res.source_crs
    if args.json:
        emit_json(summary)
    else:
        say(f"{summary['sozialraeume']} Gebiete in {summary['stadtbezirke']} Stadtbezirken eingerichtet"
            + (f", Achse {args.axis_name}." if axis is not None else "."))
    return 0


def cmd_indicators_load(args) -> int:
    con = db.connect(args.db)
    try:
        res = indicators.load_catalogue(con, args.file, user=args.user)
    except indicators.CatalogueError as exc:
        if isinstance(exc, indicators.CatalogueFileError) or not Path(args.file).exists():
            raise UsageError(str(exc)) from exc  # unreadable file: exit 2
        raise Rejected(str(exc)) from exc
    if args.json:
        emit_json({"file": args.file, **res})
    else:
        say(f"Indikatoren: {res['new']} neu, {res['updated']} aktualisiert.")
    return 0


def cmd_indicators_export(args) -> int:
    con = db.connect(args.db)
    try:
        out = indicators.export_catalogue(con, args.out, sep=args.sep)
    except TableError as exc:
        raise UsageError(str(exc)) from exc
    say(f"Katalog geschrieben: {out}")
    return 0


def cmd_export_values(args) -> int:
    con = db.connect(args.db)
    from quartier.values.exports import public_values_frame, values_frame

    if args.public and args.gebietsstand == "original":
        raise UsageError("--public gibt es nur mit --gebietsstand aktuell (geschützt wird auf den heutigen Sozialräumen).")
    if args.public:
        frame = public_values_frame(con, gebietsstand=args.gebietsstand)
    else:
        frame = values_frame(con, actor=SYSTEM, gebietsstand=args.gebietsstand)
    try:
        out = write_table(frame, args.out, sep=args.sep, sheet="Kennzahlen")
    except TableError as exc:
        raise UsageError(str(exc)) from exc
    say(f"Kennzahlen geschrieben: {out}")
    return 0


def cmd_demo(args) -> int:
    from quartier.demo import hagen as demo

    t0 = time.perf_counter()
    con = db.connect(args.db)
    res = demo.build(con, force=args.force, progress=say, confirm=args.bestaetigen)
    res["seconds"] = round(time.perf_counter() - t0, 2)
    if args.json:
        emit_json(res)
    else:
        say(f"Demo-Stadt {demo_texts.CITY_NAME} aufgebaut in {res['seconds']} s: {res['sozialraeume']} Sozialräume, "
            f"{res['indikatoren']} Indikatoren, {res['werte']} Werte aus {res['lieferungen']} Lieferungen.")
    return 0
