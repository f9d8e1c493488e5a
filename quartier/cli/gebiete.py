"""Gebietsstände: ``gebiete versionen|neu|schluessel [laden]`` (Issue 19)."""

from __future__ import annotations

import datetime as dt

from quartier import db
from quartier.areas import crosswalk, versions
from quartier.areas import geometry as geo
from quartier.cli.base import Rejected, UsageError, default_user, emit_json, say
from quartier.tables import TableError, read_table, write_table


def register(sub, common) -> None:
    p = sub.add_parser("gebiete", parents=[common], help="Gebietsstände: Versionen der Sozialräume und Schlüssel",
                       description="Gebietsstände: jede Gebietsgliederung ist eine datierte Version. Werte früherer "
                                   "Gebietsstände werden über einen Schlüssel auf die heutigen Sozialräume umgerechnet.")
    gsub = p.add_subparsers(dest="action", title="Aktionen", metavar="AKTION")
    pv = gsub.add_parser("versionen", parents=[common], help="alle Gebietsstände anzeigen")
    pv.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    pv.set_defaults(func=cmd_versionen)

    pn = gsub.add_parser("neu", parents=[common], help="einen neuen Gebietsstand anlegen und aktuell machen",
                         description="Legt aus einer GeoJSON-Datei einen neuen Gebietsstand an, macht ihn aktuell und "
                                     "leitet den Schlüssel von jedem früheren Gebietsstand ab (Überschneidung in "
                                     "ETRS89/UTM 32N, nach Einwohnern gewichtet, wo bekannt).")
    pn.add_argument("--geometry", required=True, metavar="DATEI.geojson", help="GeoJSON der neuen Gebiete")
    pn.add_argument("--id-field", required=True, metavar="FELD", help="Eigenschaft mit der eindeutigen Gebiets-Id")
    pn.add_argument("--name-field", required=True, metavar="FELD", help="Eigenschaft mit dem Gebietsnamen")
    pn.add_argument("--bezirk-field", metavar="FELD", help="Eigenschaft mit dem Stadtbezirk (optional)")
    pn.add_argument("--gueltig-ab", required=True, metavar="DATUM", help="gültig ab (JJJJ-MM-TT oder TT.MM.JJJJ)")
    pn.add_argument("--name", metavar="NAME", help="Bezeichnung des Gebietsstands (Standard: Gebietsstand N)")
    pn.add_argument("--einwohner-punkte", metavar="DATEI.geojson",
                    help="Punkte (Adressen/Gebäude) oder Rasterzellen (z. B. Zensus-Gitter) mit Einwohnerzahl zur "
                         "Gewichtung des Schlüssels (optional)")
    pn.add_argument("--einwohner-feld", default="einwohner", metavar="FELD", help="Feld mit der Einwohnerzahl der Punkte")
    pn.add_argument("--user", default=default_user(), help="wer die Änderung vornimmt (Audit-Log)")
    pn.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    pn.set_defaults(func=cmd_neu)

    ps = gsub.add_parser("schluessel", parents=[common], help="Schlüssel zwischen zwei Gebietsständen schreiben oder laden",
                         description="Schreibt den Schlüssel (alt_id, neu_id, anteil, basis) zwischen zwei Gebietsständen; "
                                     "`schluessel laden` lädt die amtliche Schlüsseltabelle einer Stadt, die dann gilt.")
    ps.add_argument("--von", type=int, metavar="V1", help="alter Gebietsstand (Nummer)")
    ps.add_argument("--nach", type=int, metavar="V2", help="neuer Gebietsstand (Nummer)")
    ps.add_argument("--out", metavar="DATEI.csv", help="Zieldatei (.csv oder .xlsx)")
    ps.add_argument("--sep", default=";", choices=[";", ","], help="Trennzeichen für CSV (Standard ;)")
    ps.set_defaults(func=cmd_schluessel)
    lsub = ps.add_subparsers(dest="key_action", title="Aktionen", metavar="AKTION")
    pl = lsub.add_parser("laden", parents=[common], help="amtliche Schlüsseltabelle (alt_id, neu_id, anteil) laden")
    pl.add_argument("file", metavar="DATEI", help="Schlüsseltabelle (.csv oder .xlsx)")
    pl.add_argument("--von", type=int, required=True, metavar="V1", help="alter Gebietsstand (Nummer)")
    pl.add_argument("--nach", type=int, required=True, metavar="V2", help="neuer Gebietsstand (Nummer)")
    pl.add_argument("--user", default=default_user(), help="wer die Änderung vornimmt (Audit-Log)")
    pl.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    pl.set_defaults(func=cmd_schluessel_laden)


def parse_date(text: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise UsageError(f"Datum {text!r} nicht lesbar: bitte JJJJ-MM-TT oder TT.MM.JJJJ angeben.")


def cmd_versionen(args) -> int:
    con = db.connect(args.db)
    rows = versions.versions_json(con)
    if args.json:
        emit_json(rows)
        return 0
    if not rows:
        say("Noch kein Gebietsstand (erst `init` ausführen).")
    for r in rows:
        say(f"{r['id']:>3}  {r['name']}  gültig ab {r['gueltig_ab']}  {r['sozialraeume']} Sozialräume, "
            f"{r['lieferungen']} Lieferungen" + ("  (aktuell)" if r["aktuell"] else ""))
    return 0


def cmd_neu(args) -> int:
    valid_from = parse_date(args.gueltig_ab)
    try:
        res = geo.read_areas(args.geometry, args.id_field, args.name_field, args.bezirk_field)
        points = crosswalk.read_points(args.einwohner_punkte, args.einwohner_feld) if args.einwohner_punkte else None
    except (geo.GeoError, crosswalk.CrosswalkError) as exc:
        raise UsageError(str(exc)) from exc
    for w in res.warnings:
        say(f"Warnung: {w}")
    con = db.connect(args.db)
    try:
        out = versions.create_version(con, res.areas, valid_from, user=args.user, name=args.name, points=points)
    except (versions.VersionError, crosswalk.CrosswalkError) as exc:
        raise Rejected(str(exc)) from exc
    out["warnings"] = res.warnings
    if args.json:
        emit_json(out)
    else:
        say(f"Gebietsstand {out['id']} (gültig ab {out['gueltig_ab']}) mit {out['sozialraeume']} Sozialräumen angelegt "
            f"und aktuell; Schlüssel: " + ", ".join(f"{k} → {out['id']} ({v})" for k, v in out["schluessel"].items()))
    return 0


def cmd_schluessel(args) -> int:
    if args.von is None or args.nach is None or not args.out:
        raise UsageError("Bitte --von, --nach und --out angeben (oder `gebiete schluessel laden DATEI --von V1 --nach V2`).")
    con = db.connect(args.db)
    table = versions.key_table(con, args.von, args.nach)
    if table.empty:
        raise Rejected(f"Zwischen Gebietsstand {args.von} und {args.nach} gibt es keinen Schlüssel (siehe `gebiete versionen`).")
    try:
        out = write_table(table, args.out, sep=args.sep, sheet="Schluessel")
    except TableError as exc:
        raise UsageError(str(exc)) from exc
    say(f"Schlüssel {args.von} → {args.nach} geschrieben ({len(table)} Zeilen): {out}")
    return 0


def cmd_schluessel_laden(args) -> int:
    try:
        table = read_table(args.file)
    except TableError as exc:
        raise UsageError(str(exc)) from exc
    con = db.connect(args.db)
    try:
        res = versions.load_key(con, table, args.von, args.nach, user=args.user)
    except crosswalk.CrosswalkError as exc:
        raise Rejected(str(exc)) from exc
    if args.json:
        emit_json({"file": args.file, **res})
    else:
        say(f"Amtlicher Schlüssel {args.von} → {args.nach} geladen: {res['zeilen']} Zeilen; er gilt statt des abgeleiteten.")
    return 0
