"""Commands for deliveries: ``import``, ``deliveries list|withdraw|status`` and ``template``."""

from __future__ import annotations

import json
from pathlib import Path

from quartier import access, db
from quartier.cli.base import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, Rejected, UsageError, default_user, emit_json, say
from quartier.uploads import FileRejected, read_path


def register(sub, common) -> None:
    p = sub.add_parser(
        "import", parents=[common], help="Lieferungen (Excel/CSV) prüfen und übernehmen",
        description="Liest Lieferungen (.xlsx, .xlsm, .xls, .ods, .csv), erkennt Tabellen, Layout und Spalten, prüft die Werte "
                    "und übernimmt jede Datei in einer Transaktion als Lieferung – oder gar nicht.\n"
                    "Exit-Code: 0 alle übernommen (bzw. übernehmbar mit --dry-run), 1 eine Datei abgelehnt, "
                    "2 Aufruffehler oder unlesbare Datei.")
    p.add_argument("files", nargs="+", metavar="DATEI", help="eine oder mehrere Lieferdateien")
    p.add_argument("--lieferant", metavar="NAME", help="liefernde Stelle (Standard: aus Dateiname oder Indikatoren erkannt)")
    p.add_argument("--dry-run", action="store_true", help="nur prüfen, nichts schreiben")
    p.add_argument("--strict", action="store_true", help="Warnungen wie Fehler behandeln (Datei wird abgelehnt)")
    p.add_argument("--json", action="store_true", help="ein JSON-Objekt je Datei auf stdout")
    p.add_argument("--user", default=default_user(), help="wer importiert (Audit-Log)")
    p.add_argument("--show-mapping", action="store_true",
                   help="nur den erkannten Plan ausgeben (Blatt, Kopfzeilen, Gebietsspalte, je Spalte Indikator, Jahr, Rolle "
                        "und woher sie stammen); nichts wird geprüft oder geschrieben")
    p.add_argument("--mapping", metavar="PLAN.json",
                   help="einen (korrigierten) Plan anwenden, wie ihn --show-mapping --json ausgibt")
    p.add_argument("--gebietsstand", type=int, metavar="V",
                   help="die Lieferung bezieht sich auf die Gebiete dieses (früheren) Gebietsstands (Nummer, siehe "
                        "`gebiete versionen`); sie wird so gespeichert und auf die heutigen Sozialräume umgerechnet")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("deliveries", parents=[common], help="Lieferungen anzeigen oder zurückziehen",
                       description="Verlauf der Lieferungen, Zurückziehen einer Lieferung und Lieferstatus.")
    dsub = p.add_subparsers(dest="action", title="Aktionen", metavar="AKTION")
    pl = dsub.add_parser("list", parents=[common], help="alle Lieferungen, neueste zuerst")
    pl.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    pl.set_defaults(func=cmd_list)
    pw = dsub.add_parser("withdraw", parents=[common], help="eine Lieferung zurückziehen (ihre Werte zählen nicht mehr)")
    pw.add_argument("id", type=int, metavar="ID", help="Nummer der Lieferung (siehe deliveries list)")
    pw.add_argument("--grund", metavar="TEXT", help="Begründung für das Audit-Log")
    pw.add_argument("--user", default=default_user(), help="wer zurückzieht (Audit-Log)")
    pw.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    pw.set_defaults(func=cmd_withdraw)
    ps = dsub.add_parser("status", parents=[common], help="Lieferstatus: welche vereinbarten Indikatoren je Jahr fehlen")
    ps.add_argument("--jahr", type=int, action="append", metavar="JAHR", help="nur dieses Jahr (mehrfach möglich)")
    ps.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    ps.set_defaults(func=cmd_status)

    p = sub.add_parser("template", parents=[common], help="Excel-Vorlage für Lieferungen schreiben",
                       description="Schreibt eine Excel-Vorlage mit Anleitung, Auswahllisten für Sozialraum und Indikator "
                                   "und den erwarteten Spalten.")
    p.add_argument("--out", required=True, metavar="DATEI.xlsx", help="Zieldatei (.xlsx)")
    p.add_argument("--lieferant", metavar="NAME", help="nur die Indikatoren dieser Stelle in die Auswahlliste")
    p.set_defaults(func=cmd_template)


def _plan_file(args) -> dict | None:
    if not args.mapping:
        return None
    try:
        obj = json.loads(read_path(Path(args.mapping)).decode("utf-8-sig"))
    except FileRejected as exc:
        raise UsageError(f"Plan {args.mapping}: {exc}") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"Plan {args.mapping} ist kein gültiges JSON ({exc}).") from exc
    from quartier.ingest.planfile import PlanError, check

    try:
        check(obj)
    except PlanError as exc:
        raise UsageError(str(exc)) from exc
    return obj


def _gebietsstand(con, version: int | None) -> int | None:
    """The Gebietsstand given with --gebietsstand (checked), None without the option."""
    if version is None:
        return None
    from quartier.areas import versions

    known = [int(v) for v in versions.versions(con)["id"]]
    if version not in known:
        raise UsageError(f"Gebietsstand {version} gibt es nicht; vorhanden: {', '.join(map(str, known)) or 'keiner'} "
                         "(siehe `gebiete versionen`).")
    return version


def cmd_import(args) -> int:
    from quartier import ingest
    from quartier.ingest import bydate
    from quartier.ingest.planfile import PlanError, plan_json

    con = db.connect(args.db)
    actor = access.cli_actor(args.user)
    plan_obj = _plan_file(args)
    gebietsstand = _gebietsstand(con, args.gebietsstand)
    if args.show_mapping:
        for name in args.files:
            try:
                fa = ingest.analyse(con, read_path(Path(name)), Path(name).name, lieferant=args.lieferant, plan_json=plan_obj,
                                    gebietsstand=gebietsstand)
            except FileRejected as exc:
                raise UsageError(f"{name}: {exc}") from exc
            except PlanError as exc:
                raise UsageError(str(exc)) from exc
            out = plan_json(Path(name).name, fa.plans)
            if args.json:
                emit_json(out)
            else:
                _say_plan(out)
        return EXIT_OK
    worst = EXIT_OK
    for name in args.files:
        path = Path(name)
        try:
            data = read_path(path)
        except FileRejected as exc:
            out = {"file": name, "status": "rejected", "lieferung_id": None,
                   "rows": {"new": 0, "changed": 0, "unchanged": 0, "suppressed": 0},
                   "errors": [{"sheet": "", "cell": "", "column": "", "value": "", "rule": exc.kind,
                               "message": str(exc)}], "warnings": []}
            _emit(args, out)
            worst = EXIT_USAGE
            continue
        try:
            fa = ingest.analyse_file(con, data, path.name, lieferant=args.lieferant, plan_json=plan_obj,
                                     gebietsstand=gebietsstand)
        except PlanError as exc:
            raise UsageError(str(exc)) from exc
        if gebietsstand is None:  # Issue 19: an earlier Gebietsstand by the areas and years of the delivery
            found = bydate.older_version(con, data, path.name, fa, lieferant=args.lieferant, plan_json=plan_obj)
            if found is not None:
                say(found.message)
                fa = found.analysis
        if fa.duplicate:
            out = fa.report("duplicate", fa.duplicate["lieferung_id"])
        elif not fa.readable:
            out = fa.report("rejected")
            worst = EXIT_USAGE
        elif fa.errors or (args.strict and fa.warnings):
            out = fa.report("rejected")
            worst = max(worst, EXIT_REJECTED)
        elif args.dry_run:
            out = fa.report("dry-run")
        else:
            try:
                out = ingest.commit(con, fa, actor, confirm_warnings=True, lieferant=args.lieferant)
                if out.get("status") == "imported":
                    _record_hinweise(con, int(out["lieferung_id"]), actor)
            except ingest.ImportRejected as exc:
                out = fa.report("rejected")
                out["errors"].append({"sheet": "", "cell": "", "column": "", "value": "", "rule": "abgelehnt", "message": str(exc)})
                worst = max(worst, EXIT_REJECTED)
        out["file"] = name
        _emit(args, out)
    return worst


JSON_KEYS = ("file", "status", "lieferung_id", "rows", "errors", "warnings")


def _record_hinweise(con, lid: int, actor) -> None:
    """Issue 18: the Hinweise of the new delivery are computed and stored with it (stderr: how many)."""
    from quartier.alerts import store

    n = store.record(con, lid, actor=actor)
    say(f"Lieferung #{lid}: {n.get('roh', 0)} Hinweise gespeichert (python -m quartier hinweise --lieferung {lid}).")


def _say_plan(out: dict) -> None:
    from quartier.ingest.detect import SOURCE_LABELS

    def src(k: str | None) -> str:
        return f" ({SOURCE_LABELS.get(k, k)})" if k else ""

    say(f"{out['file']}:")
    for s in out["sheets"]:
        say(f"  Blatt „{s['sheet']}“: Kopfzeilen {s['header_rows']}, erste Datenzeile {s['first_data_row']}, "
            f"Gebietsspalte {s['area_column'] or '–'}, Layout {s['layout']}"
            + (f", Indikator {s['indicator']}{src(s['indicator_source'])}" if s["indicator"] else "")
            + (f", Jahr {s['year']}{src(s['year_source'])}" if s["year"] else ""))
        for c in s["columns"]:
            say(f"    {c['column']:>3} {c['role']:<11} {c['indicator'] or '–'}{src(c['indicator_source'])}  "
                f"{c['year'] or '–'}{src(c['year_source'])}  „{c['header']}“")


def _emit(args, out: dict) -> None:
    if args.json:
        obj = {k: out.get(k) for k in JSON_KEYS}
        obj["warnings"] = list(obj["warnings"] or [])
        if out.get("duplicate_of"):
            d = out["duplicate_of"]
            obj["warnings"].append({"sheet": "", "cell": "", "column": "", "value": "", "rule": "duplikat",
                                    "message": f"Dieselbe Datei wurde am {d['importiert_am']} von {d['importiert_von']} "
                                               f"importiert (Lieferung #{d['lieferung_id']}); nichts geändert."})
        emit_json(obj)
        return
    from quartier.ingest.analysis import rule_label

    status = {"imported": "übernommen", "dry-run": "geprüft (nichts geschrieben)", "rejected": "ABGELEHNT",
              "duplicate": "bereits importiert"}[out["status"]]
    r = out["rows"]
    say(f"{out['file']}: {status}" + (f" als Lieferung #{out['lieferung_id']}" if out.get("lieferung_id") else "")
        + f" – {r['new']} neu, {r['changed']} geändert, {r['unchanged']} unverändert, {r['suppressed']} gesperrt.")
    if out.get("duplicate_of"):
        d = out["duplicate_of"]
        say(f"  Dieselbe Datei wurde am {d['importiert_am']} von {d['importiert_von']} importiert (Lieferung #{d['lieferung_id']}); "
            "nichts geändert.")
    for kind, items in (("Fehler", out["errors"]), ("Warnung", out["warnings"])):
        for e in items:
            where = " ".join(x for x in (f"Blatt „{e['sheet']}“" if e["sheet"] else "", e["cell"]) if x)
            say(f"  {kind}{' (' + where + ')' if where else ''} – {rule_label(e.get('rule') or '')}: {e['message']}")


def cmd_list(args) -> int:
    from quartier import ingest

    con = db.connect(args.db)
    h = ingest.history(con)
    if args.json:
        emit_json([{k: (None if v != v else v) if isinstance(v, float) else v for k, v in r.items()} for r in h.to_dict("records")])
        return EXIT_OK
    if h.empty:
        say("Noch keine Lieferungen.")
    for r in h.to_dict("records"):
        say(f"#{r['id']:>4}  {str(r['importiert_am'])[:16]}  {r['lieferant'] or '–':<16} {r['berichtsjahr'] or '':<5} "
            f"{r['status']:<15} {r['n_neu']} neu, {r['n_geaendert']} geändert  {r['dateiname']} ({r['importiert_von']})")
    return EXIT_OK


def cmd_withdraw(args) -> int:
    from quartier import ingest

    con = db.connect(args.db)
    try:
        res = ingest.withdraw(con, args.id, access.cli_actor(args.user), args.grund)
    except ingest.ImportRejected as exc:
        raise Rejected(str(exc)) from exc
    from quartier.alerts import store

    n = store.withdrawn_count(con, int(res["lieferung_id"]), actor=access.cli_actor(args.user))
    if n:
        say(f"Die {n} Hinweise dieser Lieferung gelten nicht mehr (als zurückgezogen markiert).")
    if args.json:
        emit_json(res)
    else:
        say(f"Lieferung #{res['lieferung_id']} ({res['dateiname']}) zurückgezogen: {res['werte_entfernt']} Werte zählen nicht mehr, "
            f"{res['wieder_gueltig']} frühere Werte gelten wieder.")
    return EXIT_OK


def cmd_status(args) -> int:
    from quartier import ingest

    con = db.connect(args.db)
    st = ingest.lieferstatus(con, args.jahr)
    if args.json:
        emit_json(st.drop(columns=["lieferung_id"]).to_dict("records"))
        return EXIT_OK
    for (lf, year), grp in st.groupby(["lieferant", "jahr"]):
        missing = grp.loc[grp["status"] == "ausstehend", "indikator_id"].tolist()
        say(f"{lf} {year}: {len(grp) - len(missing)}/{len(grp)} geliefert" + (f"; ausstehend: {', '.join(missing)}" if missing else ""))
    return EXIT_OK


def cmd_template(args) -> int:
    from quartier.ingest.template import write_template

    if not args.out.lower().endswith(".xlsx"):
        raise UsageError("Die Vorlage ist eine Excel-Datei: bitte --out DATEI.xlsx angeben.")
    con = db.connect(args.db)
    out = write_template(con, args.out, lieferant=args.lieferant)
    say(f"Vorlage geschrieben: {out}")
    return EXIT_OK
