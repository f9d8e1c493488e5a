"""Early-warning commands: ``hinweise`` (watch-list after a delivery) and ``aehnliche`` (comparable areas)."""

from __future__ import annotations

from quartier import db
from quartier.access import SYSTEM
from quartier.cli.base import UsageError, emit_json, say


def register(sub, common) -> None:
    p = sub.add_parser(
        "hinweise", parents=[common], help="Hinweise: Klassenwechsel, Schwellen, auffällige Änderungen, Trendbrüche",
        description="Listet die Hinweise (Frühwarnung) nach Wichtigkeit: Klassenwechsel im Handlungsbedarf, "
                    "überschrittene Schwellen aus dem Indikatorenkatalog, auffällige Änderungen zum Vorjahr "
                    "(Zwei-Stichproben-z-Test für Anteile, 5 %) und Trendbrüche (außerhalb der linearen "
                    "Fortschreibung der letzten fünf Jahre ± 2 Standardabweichungen). Ohne --seit/--lieferung: "
                    "das jeweils neueste Jahr jedes Indikators.")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--seit", metavar="DATUM", help="nur Lieferungen, die seit diesem Datum importiert wurden (JJJJ-MM-TT)")
    when.add_argument("--lieferung", type=int, metavar="ID", help="die Hinweise, die diese Lieferung beim Import ausgelöst hat (gespeichert; "
                                                                "bei zurückgezogener Lieferung leer)")
    p.add_argument("--bezirk", metavar="NAME", help="nur Sozialräume dieses Stadtbezirks (Name oder Id)")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    p.set_defaults(func=cmd_hinweise)

    p = sub.add_parser(
        "aehnliche", parents=[common], help="vergleichbare Sozialräume mit ähnlichem Profil finden",
        description="Findet die Sozialräume mit dem ähnlichsten Profil: je Indikator z-standardisiert über alle "
                    "Sozialräume des Jahres, euklidischer Abstand über die gemeinsamen Indikatoren (auf alle "
                    "Indikatoren hochgerechnet). Standard-Indikatoren: die der gespeicherten Index-Methode, sonst "
                    "alle Quoten.")
    p.add_argument("--sozialraum", required=True, metavar="ID", help="Id des Sozialraums")
    p.add_argument("--jahr", required=True, type=int, metavar="JAHR", help="Jahr der Werte")
    p.add_argument("--anzahl", type=int, default=5, metavar="K", help="wie viele ähnliche Sozialräume (Standard 5)")
    p.add_argument("--indikatoren", metavar="a,b,c", help="Indikator-Ids, durch Komma getrennt")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    p.set_defaults(func=cmd_aehnliche)


def cmd_hinweise(args) -> int:
    from quartier.alerts import hinweise as hw
    from quartier.alerts import store

    con = db.connect(args.db)
    try:
        if args.lieferung is not None:  # what this delivery raised when it was imported (stored with it)
            items = store.for_lieferung(con, args.lieferung, actor=SYSTEM, bezirk=args.bezirk)
            if store.status(con, args.lieferung) != "aktiv":
                say(f"Lieferung Nr. {args.lieferung} ist zurückgezogen: ihre "
                    f"{store.withdrawn_count(con, args.lieferung, actor=SYSTEM)} Hinweise gelten nicht mehr.")
        else:
            items = hw.hinweise(con, actor=SYSTEM, seit=args.seit, bezirk=args.bezirk)
    except hw.HinweisError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        emit_json(hw.to_json(items))
        return 0
    say(f"{len(items)} Hinweise.")
    for h in items:
        print(f"{h.sozialraum:<8} {h.art:<15} {h.text}")
    return 0


def cmd_aehnliche(args) -> int:
    from quartier.alerts import similar

    if args.anzahl < 1:
        raise UsageError("--anzahl muss mindestens 1 sein.")
    ids = [s.strip() for s in args.indikatoren.split(",") if s.strip()] if args.indikatoren else None
    con = db.connect(args.db)
    try:
        res = similar.similar(con, args.sozialraum, args.jahr, k=args.anzahl, indicator_ids=ids, actor=SYSTEM)
    except similar.SimilarError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        emit_json(res)
        return 0
    say(f"Ähnlich wie {res['sozialraum']} ({res['jahr']}), Indikatoren: {', '.join(res['indikatoren'])}")
    for r in res["aehnliche"]:
        print(f"{r['id']:<8} {r['name'][:34]:<34} {r['distanz']:>8.3f}  ähnlich bei: {', '.join(r['naechste_indikatoren'])}")
    return 0
