"""``python -m quartier report``: the printable report (PDF) for the city, a Stadtbezirk or a Sozialraum."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from quartier import db
from quartier.cli.base import UsageError, emit_json, say


def register(sub, common) -> None:
    p = sub.add_parser(
        "report", parents=[common], help="Bericht als PDF (Gesamtstadt, Stadtbezirk oder Sozialraum)",
        description="Schreibt den Bericht als PDF (A4, deutsch): Karte, Kennzahlen mit Vergleich zur Stadt, "
                    "Sozialräume nach Handlungsbedarf, Entwicklung, Handlungsempfehlungen, Datenstand und "
                    "Indikatorendefinitionen. Genau eine von --bezirk, --stadt oder --sozialraum angeben.\n\n"
                    "Beispiel: python -m quartier report --bezirk Nord --out nord.pdf",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--bezirk", metavar="NAME", help="Stadtbezirk: Id, Nummer oder Name (Groß-/Kleinschreibung egal)")
    which.add_argument("--stadt", action="store_true", help="Bericht für die Gesamtstadt")
    which.add_argument("--sozialraum", metavar="ID", help="Sozialraum: Nummer (S01) oder Name")
    p.add_argument("--out", required=True, metavar="DATEI.pdf", help="Zieldatei (.pdf)")
    p.add_argument("--jahr", type=int, metavar="JAHR", help="Berichtsjahr (Standard: das neueste je Indikator)")
    p.add_argument("--seit", metavar="TT.MM.JJJJ",
                   help="Änderungen der Handlungsempfehlungen seit diesem Datum zeigen (z. B. letzte Sitzung)")
    p.add_argument("--rohwerte", action="store_true",
                   help="auch Werte aus kleinen Fallzahlen zeigen (nur für den internen Gebrauch; "
                        "ohne diese Angabe werden sie wie für Betrachtende gesperrt)")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    p.set_defaults(func=cmd_report)


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    for f in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, f).date()
        except ValueError:
            pass
    raise UsageError(f"Datum „{text}“ nicht lesbar: bitte als TT.MM.JJJJ angeben, z. B. 15.03.2026.")


def cmd_report(args) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".pdf":
        raise UsageError(f"{out}: Der Bericht wird als PDF geschrieben; bitte eine Datei mit der Endung .pdf angeben.")
    if not out.parent.exists():
        raise UsageError(f"{out}: Der Ordner {out.parent} existiert nicht.")
    since = _date(args.seit)
    path = db.db_path(args.db)
    if not path.exists():
        raise UsageError(f"Datenbank {path} existiert nicht. Erst `python -m quartier demo` oder `init` ausführen.")
    con = db.connect(path, read_only=True)
    try:
        return _write_report(con, args, out, since)
    finally:
        con.close()  # at once: a test or caller opening the same file next must not find it still open


def _write_report(con, args, out: Path, since) -> int:
    from quartier.access import VIEWER, Actor, cli_actor
    from quartier.cli.base import default_user
    from quartier.reports import pdf as report_pdf
    from quartier.reports import scope as report_scope

    user = default_user()
    # Reports go to council bodies: small numbers are protected unless raw values are asked for.
    actor = cli_actor(user) if args.rohwerte else Actor(user, VIEWER)
    try:
        if args.stadt:
            scope = report_scope.city_scope(con)
        elif args.bezirk is not None:
            scope = report_scope.bezirk_scope(con, args.bezirk)
        else:
            scope = report_scope.sozialraum_scope(con, args.sozialraum)
    except report_scope.ScopeError as exc:
        raise UsageError(str(exc)) from exc
    if not scope.area_ids:
        raise UsageError("Es sind noch keine Sozialräume eingerichtet: erst `python -m quartier demo` oder `init` ausführen.")
    t0 = time.perf_counter()
    try:
        data = report_pdf.build_pdf(con, scope, out, year=args.jahr, since=since, actor=actor)
    except report_scope.ReportError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"{out} kann nicht geschrieben werden: {exc.strerror or exc}.") from exc
    secs = round(time.perf_counter() - t0, 2)
    if args.json:
        emit_json({"file": str(out), "scope": scope.kind, "id": scope.id, "name": scope.label,
                   "bytes": len(data), "seconds": secs})
    else:
        say(f"{scope.title} {scope.label} geschrieben: {out} ({len(data) // 1024} KB, {secs} s)")
    return 0
