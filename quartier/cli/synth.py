"""The ``synth`` command: build a deterministic synthetic city for benchmarks and scale tests."""

from __future__ import annotations

import time

from quartier import access, db
from quartier.cli.base import UsageError, default_user, emit_json, say


def register(sub, common) -> None:
    p = sub.add_parser(
        "synth", parents=[common], help="synthetische Stadt für Last- und Skalierungstests aufbauen",
        description="Baut eine reproduzierbare synthetische Stadt: N Sozialräume (Voronoi-Flächen), Stadtbezirke, "
                    "eine Achse, K Indikatoren und Werte für Y Jahre mit Zählern und Nennern. Alle Namen und Zahlen "
                    "sind erfunden. Gleiche Angaben und gleicher --seed ergeben dieselbe Stadt.")
    p.add_argument("--areas", type=int, default=1000, metavar="N", help="Anzahl der Sozialräume (Standard 1000)")
    p.add_argument("--indicators", type=int, default=60, metavar="K", help="Anzahl der Indikatoren (Standard 60)")
    p.add_argument("--years", type=int, default=20, metavar="Y", help="Anzahl der Jahre bis 2025 (Standard 20)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="Startwert des Zufallsgenerators (Standard 1)")
    p.add_argument("--force", action="store_true", help="vorhandene Daten in der Datenbank ersetzen (vorher wird gesichert)")
    p.add_argument("--bestaetigen", metavar="STADT", help="Name der Stadt: nötig, um eine Datenbank zu ersetzen, die keine Demo ist")
    p.add_argument("--user", default=default_user(), help="wer die Änderung vornimmt (Audit-Log)")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    p.set_defaults(func=cmd_synth)


def cmd_synth(args) -> int:
    from quartier.demo import synth

    if args.areas < 3 or args.areas > 200_000:
        raise UsageError("--areas muss zwischen 3 und 200000 liegen.")
    if args.indicators < 1 or args.indicators > 1000:
        raise UsageError("--indicators muss zwischen 1 und 1000 liegen.")
    if args.years < 1 or args.years > 60:
        raise UsageError("--years muss zwischen 1 und 60 liegen.")
    t0 = time.perf_counter()
    con = db.connect(args.db)
    try:
        res = synth.build(con, args.areas, args.indicators, args.years, args.seed,
                          actor=access.cli_actor(args.user), force=args.force, progress=say,
                          confirm=args.bestaetigen)
    except synth.SynthError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        con.close()
    res["seconds"] = round(time.perf_counter() - t0, 2)
    res["db"] = str(db.db_path(args.db))
    if args.json:
        emit_json(res)
    else:
        say(f"Synthetische Stadt in {res['seconds']} s aufgebaut: {res['sozialraeume']} Sozialräume in "
            f"{res['stadtbezirke']} Bezirken, {res['indikatoren']} Indikatoren, {res['werte']} Werte "
            f"({res['gesperrt']} an der Quelle gesperrt) aus {res['lieferungen']} Lieferungen.")
    return 0
