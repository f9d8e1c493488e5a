"""CLI: ``empfehlungen export`` and ``empfehlungen import`` (Excel round trip of the Handlungsempfehlungen)."""

from __future__ import annotations

from pathlib import Path

from quartier import access, db
from quartier.cli.base import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, UsageError, default_user, emit_json, say


def register(sub, common) -> None:
    p = sub.add_parser("empfehlungen", parents=[common], help="Handlungsempfehlungen exportieren oder importieren",
                       description="Excel-Rundweg der Handlungsempfehlungen: der Export hat dasselbe Format, das der "
                                   "Import liest. Eine Statusänderung braucht eine Begründung in derselben Zeile.")
    esub = p.add_subparsers(dest="action", title="Aktionen", metavar="AKTION")
    pe = esub.add_parser("export", parents=[common], help="Katalog als .xlsx (oder .csv) schreiben",
                         description="Schreibt alle Handlungsempfehlungen (auch interne und ausgeschiedene) im Importformat.")
    pe.add_argument("--out", required=True, metavar="DATEI", help="Zieldatei (.xlsx oder .csv)")
    pe.add_argument("--sep", default=";", choices=[";", ","], help="Trennzeichen für CSV (Standard ;)")
    pe.set_defaults(func=cmd_export)
    pi = esub.add_parser("import", parents=[common], help="Katalog oder Statusmeldungen aus .xlsx/.csv übernehmen",
                         description="Prüft die Datei vollständig und übernimmt alles oder nichts. Fehlende Spalten bleiben "
                                     "unverändert; Nummer, Status, Fortschritt % und Begründung genügen für Statusmeldungen.\n"
                                     "Exit-Code: 0 übernommen bzw. Probelauf ohne Fehler, 1 abgelehnt (Prüffehler), "
                                     "2 Datei nicht lesbar oder falscher Aufruf.")
    pi.add_argument("file", metavar="DATEI", help="Excel- (.xlsx) oder CSV-Datei")
    pi.add_argument("--dry-run", action="store_true", help="nur prüfen und Vorschau zeigen, nichts ändern")
    pi.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    pi.add_argument("--user", default=default_user(), help="wer die Änderung vornimmt (Verlauf und Audit-Log)")
    pi.set_defaults(func=cmd_import)
    p.set_defaults(func=lambda args: _missing_action(p))


def _missing_action(parser) -> int:
    parser.print_help()
    return EXIT_USAGE


def cmd_export(args) -> int:
    from quartier.actions import excel as catalogue_io

    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".csv"):
        raise UsageError(f"{out}: bitte .xlsx oder .csv als Dateiendung verwenden.")
    con = db.connect(args.db)
    catalogue_io.export_file(con, out, sep=args.sep)
    n = con.cursor().execute("SELECT count(*) FROM empfehlung").fetchone()[0]
    say(f"{n} Handlungsempfehlungen geschrieben: {out}")
    return EXIT_OK


def cmd_import(args) -> int:
    from quartier.actions import excel as catalogue_io

    try:
        sheet = catalogue_io.read_sheet(args.file, args.file)
    except catalogue_io.ImportFileError as exc:
        if args.json:
            emit_json({"file": args.file, "status": "rejected", "counts": {"new": 0, "changed": 0, "unchanged": 0},
                       "errors": [{"sheet": None, "cell": None, "column": None, "value": None, "rule": "datei",
                                   "message": str(exc)}], "warnings": []})
        raise UsageError(str(exc)) from exc
    con = db.connect(args.db)
    res = catalogue_io.import_sheet(con, access.cli_actor(args.user), sheet, args.file, dry_run=args.dry_run)
    if args.json:
        emit_json(res.to_json())
    else:
        for w in res.warnings:
            say(f"Hinweis: {w['message']}")
        for e in res.errors:
            say(f"Fehler: {e['message']}")
        for item in res.preview:
            say(f"{item['art']}: {item['id']} {item['titel']}")
            for ch in item["aenderungen"]:
                say(f"    {ch['label']}: {ch['alt'] or '–'} → {ch['neu'] or '–'}")
        verb = {"imported": "übernommen", "dry-run": "Probelauf, nichts geändert", "rejected": "abgelehnt, nichts geändert"}
        say(f"{args.file}: {verb[res.status]} – {res.new} neu, {res.changed} geändert, {res.unchanged} unverändert, "
            f"{len(res.errors)} Fehler.")
    return EXIT_REJECTED if res.errors else EXIT_OK
