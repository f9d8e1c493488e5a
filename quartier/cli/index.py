"""Command ``index``: the Handlungsbedarf ranking, saved methods and reproducible results."""

from __future__ import annotations

import json
from pathlib import Path

from quartier import access, db
from quartier import format as fmt
from quartier.cli.base import Rejected, UsageError, default_user, emit_json, say
from quartier.need import compute as index_compute
from quartier.need import export, store
from quartier.need import method as index_method
from quartier.need.method import IndexMethod, MethodError
from quartier.values import coverage


def register(sub, common) -> None:
    p = sub.add_parser(
        "index", parents=[common], help="Handlungsbedarf-Index: Rangfolge der Sozialräume, Methoden speichern",
        description=(
            "Berechnet den Handlungsbedarf-Index (Rangfolge der Sozialräume, Rang 1 = höchster Bedarf) mit einer "
            "gespeicherten Methode oder einer Methodendatei (JSON), speichert Methoden und Ergebnisse und rechnet "
            "gespeicherte Ergebnisse nach.\n\nBeispiele:\n"
            "  python -m quartier index --year 2025 --json\n"
            "  python -m quartier index --year 2025 --public --json\n"
            "  python -m quartier index --year 2025 --method-file methode.json --out rangfolge.xlsx\n"
            "  python -m quartier index --export-method \"Handlungsbedarf Kinder und Jugendliche\" --out methode.json\n"
            "  python -m quartier index --save-method methode.json\n"
            "  python -m quartier index --year 2025 --store --title \"Vorlage JHA 2026\"\n"
            "  python -m quartier index --reproduce 1 --json"
        ),
    )
    p.add_argument("--year", type=int, metavar="JAHR", help="Indexjahr")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--method", metavar="NAME", help="gespeicherte Methode (Standard: die einzige gespeicherte)")
    src.add_argument("--method-file", metavar="DATEI.json", help="Methode aus einer JSON-Datei (wie --export-method sie schreibt)")
    p.add_argument("--version", type=int, metavar="N", help="Version der gespeicherten Methode (Standard: die neueste)")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    p.add_argument("--out", metavar="DATEI", help="Rangfolge mit Methodenbeschreibung als .xlsx schreiben; "
                                                  "mit --export-method: Zieldatei .json")
    p.add_argument("--public", action="store_true",
                   help="was Betrachtende sehen: Index aus den geschützten Werten (geschützte Werte zählen als fehlend); "
                        "mit --json und --out")
    p.add_argument("--store", action="store_true", help="Ergebnis mit Methode und Datenstand speichern (veröffentlichen)")
    p.add_argument("--title", metavar="TEXT", help="Titel des gespeicherten Ergebnisses, z. B. die Vorlage")
    p.add_argument("--export-method", metavar="NAME", help="gespeicherte Methode als JSON-Datei schreiben (mit --out)")
    p.add_argument("--save-method", metavar="DATEI.json", help="Methode aus einer JSON-Datei als neue Version speichern")
    p.add_argument("--list", action="store_true", help="gespeicherte Methoden und Ergebnisse auflisten")
    p.add_argument("--reproduce", type=int, metavar="NR", help="gespeichertes Ergebnis aus seinen Lieferungen nachrechnen")
    p.add_argument("--user", default=default_user(), help="wer die Änderung vornimmt (Audit-Log)")
    p.set_defaults(func=cmd_index)


def read_method_file(path: str) -> dict:
    p = Path(path)
    if not p.exists():
        raise UsageError(f"Methodendatei {p} nicht gefunden.")
    try:
        return json.loads(p.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"Methodendatei {p}: keine UTF-8-Textdatei ({exc.reason}).") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"Methodendatei {p}: kein gültiges JSON (Zeile {exc.lineno}, Spalte {exc.colno}: {exc.msg}). "
            "Vorlage: python -m quartier index --export-method NAME --out methode.json"
        ) from exc


def _method(con, args) -> IndexMethod:
    if args.method_file:
        obj = read_method_file(args.method_file)
        try:
            m = index_method.validate_method(obj, _catalogue(con))
        except MethodError as exc:
            raise Rejected(f"Methodendatei {args.method_file}: {exc}") from exc
        m, note = index_method.check_version(con, m)
        if note:
            say(f"Hinweis: {note}")
        return m
    name = args.method
    if not name:
        saved = index_method.methods(con)
        if len(saved) != 1:
            names = ", ".join(f"„{n}“" for n in saved["name"]) or "keine"
            raise UsageError(f"Bitte --method NAME oder --method-file angeben (gespeicherte Methoden: {names}).")
        name = saved["name"].iat[0]
    try:
        return index_method.get_method(con, name, args.version)
    except MethodError as exc:
        raise UsageError(str(exc)) from exc


def _catalogue(con):
    from quartier.values import indicators

    return indicators.catalogue(con)


def cmd_index(args) -> int:
    modes = [bool(args.export_method), bool(args.save_method), args.list, args.reproduce is not None, args.year is not None]
    if sum(modes) != 1:
        raise UsageError(
            "Bitte genau eines angeben: --year JAHR (Index berechnen), --export-method NAME, --save-method DATEI, "
            "--list oder --reproduce NR."
        )
    con = db.connect(args.db)
    if args.export_method:
        return _export_method(con, args)
    if args.save_method:
        return _save_method(con, args)
    if args.list:
        return _list(con, args)
    if args.reproduce is not None:
        return _reproduce(con, args)
    return _compute(con, args)


def _export_method(con, args) -> int:
    if not args.out or not args.out.lower().endswith(".json"):
        raise UsageError("--export-method braucht --out DATEI.json.")
    try:
        m = index_method.get_method(con, args.export_method, args.version)
    except MethodError as exc:
        raise UsageError(str(exc)) from exc
    Path(args.out).write_text(m.to_json(indent=2) + "\n", encoding="utf-8")
    say(f"Methode „{m.name}“ Version {m.version} nach {args.out} geschrieben.")
    if args.json:
        emit_json(m.to_dict())
    return 0


def _save_method(con, args) -> int:
    obj = read_method_file(args.save_method)
    try:
        saved = index_method.save_method(con, obj, access.cli_actor(args.user))
    except MethodError as exc:
        raise Rejected(f"Methodendatei {args.save_method}: {exc}") from exc
    say(f"Methode „{saved.name}“ gespeichert als Version {saved.version}.")
    if args.json:
        emit_json(saved.to_dict())
    return 0


def _list(con, args) -> int:
    ms = index_method.methods(con)
    rs = store.stored_results(con)
    if args.json:
        emit_json({
            "methods": [{"name": r["name"], "version": int(r["version"]), "erstellt_von": r["erstellt_von"],
                         "erstellt_am": str(r["erstellt_am"])} for r in ms.to_dict("records")],
            "results": [{"id": int(r["id"]), "method": r["methode_name"], "version": int(r["methode_version"]),
                         "year": int(r["jahr"]), "data_state": json.loads(r["datenstand"]), "title": r["titel"],
                         "gespeichert_von": r["gespeichert_von"], "gespeichert_am": str(r["gespeichert_am"])}
                        for r in rs.to_dict("records")],
        })
        return 0
    print("Gespeicherte Methoden:")
    for r in ms.to_dict("records"):
        print(f"  {r['name']} (Version {r['version']}, {r['erstellt_von']}, {r['erstellt_am']:%d.%m.%Y %H:%M})")
    print("Gespeicherte Ergebnisse:")
    for r in rs.to_dict("records"):
        print(f"  Nr. {r['id']}: {r['methode_name']} v{r['methode_version']}, Jahr {r['jahr']}, "
              f"Lieferungen {', '.join(map(str, json.loads(r['datenstand'])))}" + (f" – {r['titel']}" if r["titel"] else ""))
    return 0


def _reproduce(con, args) -> int:
    try:
        stored = store.stored_result(con, args.reproduce, actor=access.SYSTEM)
    except MethodError as exc:
        raise UsageError(str(exc)) from exc
    try:
        again = store.reproduce(con, args.reproduce, actor=access.SYSTEM).to_json()
    except MethodError as exc:
        raise Rejected(str(exc)) from exc
    same = again == stored
    if args.json:
        emit_json({"id": args.reproduce, "identical": same, "result": again})
    else:
        _print_ranking(again)
    say(f"Ergebnis Nr. {args.reproduce} nachgerechnet: " + ("identisch." if same else "WEICHT AB."))
    return 0 if same else 1


def _compute(con, args) -> int:
    m = _method(con, args)
    years = index_compute.years_available(con, m)
    if args.year not in years:
        span = f"{years[0]}–{years[-1]}" if years else "keine"
        raise UsageError(f"Für {args.year} liegen keine Werte der Indikatoren dieser Methode vor (Jahre: {span}).")
    if args.public and args.store:
        raise UsageError("--public und --store schließen sich aus: gespeichert wird die Rangfolge der Fachplanung.")
    gaps = index_compute.incomplete_years(con, list(m.indicator_ids), [int(args.year)]).get(int(args.year))
    if gaps:  # a ranking would compare areas with and without an indicator (as on the page: not ranked)
        cat = _catalogue(con)
        names = dict(zip(cat["id"], cat["name"]))
        raise Rejected(f"{args.year} ist unvollständig geliefert – keine Rangfolge. "
                       + "; ".join(f"„{names.get(i, i)}“: " + ("nicht geliefert" if t is None else coverage.text(d, t))
                                   for i, d, t in gaps) + ".")
    actor = access.PUBLIC if args.public else access.SYSTEM
    try:
        result = index_compute.compute(con, m, args.year, actor=actor)
    except MethodError as exc:
        raise Rejected(str(exc)) from exc
    note = index_compute.protection_note(result)
    if note:
        say(f"Hinweis: {note}")
    if args.store:
        rid = store.store_result(con, result, access.cli_actor(args.user), args.title)
        say(f"Ergebnis gespeichert als Nr. {rid} (Methode „{result.method.name}“ Version "
            f"{result.method.version}, Lieferungen {', '.join(map(str, result.data_state))}).")
    if args.out:
        if not args.out.lower().endswith(".xlsx"):
            raise UsageError("--out: bitte eine .xlsx-Datei angeben (Rangfolge mit Methodenbeschreibung).")
        previous = index_compute.previous_year(con, result.method, args.year, actor=actor)
        export.export_xlsx(con, result, previous, args.out, actor=actor)
        say(f"Rangfolge nach {args.out} geschrieben.")
    js = result.to_json()
    if args.json:
        emit_json(js)
    else:
        _print_ranking(js)
    return 0


def _print_ranking(js: dict) -> None:
    m = js["method"]
    print(f"Handlungsbedarf {js['year']} – Methode „{m['name']}“" + (f" Version {m['version']}" if m.get("version") else ""))
    print(f"{'Rang':>4}  {'Nr.':<5} {'Sozialraum':<32} {'Wert':>7}  {'Klasse':<12} {'Dynamik':<16} Hinweise")
    for r in js["sozialraeume"]:
        rank = "–" if r["rank"] is None else str(r["rank"])
        print(f"{rank:>4}  {r['id']:<5} {r['name'][:32]:<32} {fmt.number(r['value'], 2):>7}  {r['class'] or '–':<12} "
              f"{r['dynamics_class'] or '–':<16} {'; '.join(r['flags'])}")
