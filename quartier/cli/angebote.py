"""Commands for offers and supply: ``angebote import|export|template|kategorien|netz`` and ``versorgung``."""

from __future__ import annotations

from pathlib import Path

from quartier import access, db
from quartier import format as fmt
from quartier.cli.base import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, UsageError, default_user, emit_json, say
from quartier.errors import QuartierError


def register(sub, common) -> None:
    p = sub.add_parser("angebote", parents=[common], help="Angebote und Einrichtungen importieren, exportieren, Vorlage",
                       description="Angebote (Kita, Jugendzentrum …) als Excel/CSV oder GeoJSON-Punkte: Vorschau, Prüfung je "
                                   "Zelle, alles oder nichts, Verlauf. Exit-Code: 0 übernommen bzw. ohne Fehler geprüft, "
                                   "1 abgelehnt (Prüffehler), 2 Aufruffehler oder unlesbare Datei.")
    asub = p.add_subparsers(dest="action", title="Aktionen", metavar="AKTION")
    pi = asub.add_parser("import", parents=[common], help="Angebotsliste prüfen und übernehmen")
    pi.add_argument("file", metavar="DATEI", help=".xlsx, .xls, .ods, .csv oder .geojson")
    pi.add_argument("--dry-run", action="store_true", help="nur prüfen und Vorschau zeigen, nichts schreiben")
    pi.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    pi.add_argument("--user", default=default_user(), help="wer importiert (Verlauf und Audit-Log)")
    pi.add_argument("--neue-kategorie", action="append", default=[], metavar="NAME",
                    help="eine noch unbekannte Kategorie ausdrücklich als neu bestätigen (mehrfach möglich)")
    pi.set_defaults(func=cmd_import)
    pe = asub.add_parser("export", parents=[common], help="gespeicherte Angebote als .xlsx oder .csv (Importformat)")
    pe.add_argument("--out", required=True, metavar="DATEI", help="Zieldatei (.xlsx oder .csv)")
    pe.set_defaults(func=cmd_export)
    pt = asub.add_parser("template", parents=[common], help="Excel-Vorlage mit Auswahllisten schreiben")
    pt.add_argument("--out", required=True, metavar="DATEI.xlsx", help="Zieldatei (.xlsx)")
    pt.set_defaults(func=cmd_template)
    pk = asub.add_parser("kategorien", parents=[common], help="Kategorienkatalog: list, load, export")
    ksub = pk.add_subparsers(dest="kat_action", title="Aktionen", metavar="AKTION")
    kl = ksub.add_parser("list", parents=[common], help="Kategorien anzeigen")
    kl.add_argument("--json", action="store_true", help="als JSON auf stdout")
    kl.set_defaults(func=cmd_kat_list)
    kd = ksub.add_parser("load", parents=[common], help="Kategorien aus .xlsx/.csv laden (Name, Farbe, Symbol, "
                                                        "Zielgruppe-Indikator, Radius m)")
    kd.add_argument("file", metavar="DATEI")
    kd.add_argument("--user", default=default_user(), help="wer lädt (Audit-Log)")
    kd.set_defaults(func=cmd_kat_load)
    kx = ksub.add_parser("export", parents=[common], help="Kategorien als .xlsx/.csv schreiben")
    kx.add_argument("--out", required=True, metavar="DATEI")
    kx.set_defaults(func=cmd_kat_export)
    pk.set_defaults(func=lambda args: _help(pk))
    pn = asub.add_parser("netz", parents=[common], help="Fußwegenetz laden oder entfernen (Erreichbarkeit im Netz)")
    nsub = pn.add_subparsers(dest="netz_action", title="Aktionen", metavar="AKTION")
    nl = nsub.add_parser("laden", parents=[common], help="GeoJSON-Linien als Fußwegenetz laden (ersetzt das bisherige)")
    nl.add_argument("file", metavar="DATEI.geojson")
    nl.add_argument("--user", default=default_user(), help="wer lädt (Audit-Log)")
    nl.set_defaults(func=cmd_net_load)
    nr = nsub.add_parser("entfernen", parents=[common], help="Fußwegenetz entfernen (wieder Luftlinie)")
    nr.add_argument("--user", default=default_user(), help="wer entfernt (Audit-Log)")
    nr.set_defaults(func=cmd_net_clear)
    pn.set_defaults(func=lambda args: _help(pn))
    p.set_defaults(func=lambda args: _help(p))
    _register_versorgung(sub, common)


def _register_versorgung(sub, common) -> None:
    p = sub.add_parser("versorgung", parents=[common], help="Versorgung je Sozialraum: Angebote, Plätze, Erreichbarkeit",
                       description="Für eine Kategorie und ein Jahr je Sozialraum: Angebote, Plätze, Zielgruppe, Plätze je "
                                   "100, Anteil der Fläche in Reichweite, Handlungsbedarf-Klasse. --neu fügt geplante "
                                   "Angebote nur für diesen Lauf hinzu. `versorgung vorschlag` schlägt Standorte vor.")
    _supply_options(p)
    p.add_argument("--jahr", type=int, metavar="JAHR", help="Jahr (Standard: das neueste der Zielgruppe)")
    p.add_argument("--zielgruppe", metavar="INDIKATOR", help="Zielgruppen-Indikator (Standard: der der Kategorie)")
    p.add_argument("--neu", action="append", default=[], metavar="LON,LAT[,PLAETZE]",
                   help="geplantes Angebot (Längengrad, Breitengrad, optional Plätze); mehrfach möglich")
    vsub = p.add_subparsers(dest="versorgung_aktion", title="Aktionen", metavar="AKTION")
    pv = vsub.add_parser("vorschlag", parents=[common], help="Standorte für neue Angebote vorschlagen (maximale Abdeckung)")
    _supply_options(pv)
    pv.add_argument("--anzahl", type=int, required=True, metavar="N", help="Zahl der vorzuschlagenden Standorte")
    pv.add_argument("--jahr", type=int, metavar="JAHR", help="Jahr (Standard: das neueste der Zielgruppe)")
    pv.add_argument("--standorte", metavar="DATEI", help="Standortliste der Stadt (.xlsx/.csv mit Breitengrad/Längengrad "
                                                          "oder Rechtswert/Hochwert, oder GeoJSON-Punkte) statt eines "
                                                          "Rasters von Kandidaten in der Stadt")
    pv.set_defaults(func=cmd_suggest)
    p.set_defaults(func=cmd_supply)


def _supply_options(p) -> None:
    p.add_argument("--kategorie", metavar="NAME", help="Kategorie (siehe angebote kategorien list)")
    p.add_argument("--radius", type=float, metavar="M", help="Radius in Metern (Standard: der der Kategorie)")
    p.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")


def _help(parser) -> int:
    parser.print_help()
    return EXIT_USAGE


def _emit_import(args, out: dict) -> None:
    if args.json:
        emit_json(out)
        return
    status = {"imported": "übernommen", "dry-run": "geprüft (nichts geschrieben)", "rejected": "ABGELEHNT",
              "unchanged": "keine Änderung"}[out["status"]]
    r = out["rows"]
    say(f"{out['file']}: {status} – {r['new']} neu, {r['changed']} geändert, {r['unchanged']} unverändert, "
        f"{r['closed']} geschlossen.")
    for kind, items in (("Fehler", out["errors"]), ("Hinweis", out["warnings"])):
        for e in items:
            where = " ".join(x for x in (f"Blatt „{e['sheet']}“" if e["sheet"] else "", e["cell"]) if x)
            say(f"  {kind}{' (' + where + ')' if where else ''}: {e['message']}")


def _reject(name: str, exc: Exception, rule: str) -> dict:
    return {"file": name, "status": "rejected", "rows": {"new": 0, "changed": 0, "unchanged": 0, "closed": 0},
            "errors": [{"sheet": "", "cell": "", "column": "", "value": "", "rule": rule, "message": str(exc)}],
            "warnings": []}


def cmd_import(args) -> int:
    from quartier.offers import importer
    from quartier.uploads import FileRejected

    con = db.connect(args.db)
    actor = access.cli_actor(args.user)
    try:
        rep = importer.analyse(con, importer.read_file(args.file), Path(args.file).name, args.neue_kategorie)
    except FileRejected as exc:
        _emit_import(args, _reject(args.file, exc, exc.kind))
        return EXIT_USAGE
    except QuartierError as exc:
        _emit_import(args, _reject(args.file, exc, "unlesbar"))
        return EXIT_USAGE
    if rep.errors:
        out = rep.report("rejected")
        code = EXIT_REJECTED
    elif args.dry_run:
        out, code = rep.report("dry-run"), EXIT_OK
    else:
        out, code = importer.commit(con, rep, actor=actor, user_file=args.file), EXIT_OK
    out["file"] = args.file
    _emit_import(args, out)
    return code


def cmd_export(args) -> int:
    from quartier.offers import template

    if not args.out.lower().endswith((".xlsx", ".csv")):
        raise UsageError("Bitte --out DATEI.xlsx oder DATEI.csv angeben.")
    con = db.connect(args.db)
    out = template.export(con, args.out, actor=access.cli_actor(default_user()))
    say(f"Angebote geschrieben: {out}")
    return EXIT_OK


def cmd_template(args) -> int:
    from quartier.offers import template

    if not args.out.lower().endswith(".xlsx"):
        raise UsageError("Die Vorlage ist eine Excel-Datei: bitte --out DATEI.xlsx angeben.")
    con = db.connect(args.db)
    say(f"Vorlage geschrieben: {template.write_template(con, args.out)}")
    return EXIT_OK


def cmd_kat_list(args) -> int:
    from quartier.offers import catalogue

    df = catalogue.categories(db.connect(args.db))
    if args.json:
        emit_json(df.astype(object).where(df.notna(), None).to_dict("records"))
        return EXIT_OK
    if df.empty:
        say("Noch keine Kategorien. Laden mit: python -m quartier angebote kategorien load DATEI")
    for r in df.to_dict("records"):
        say(f"{r['name']:<20} {r['farbe'] or '':<8} {r['symbol'] or '':<8} Zielgruppe {r['zielgruppe_indikator'] or '–':<12} "
            f"Radius {r['radius_m']:.0f} m")
    return EXIT_OK


def cmd_kat_load(args) -> int:
    from quartier.offers import catalogue

    try:
        n = catalogue.load(db.connect(args.db), args.file, actor=access.cli_actor(args.user))
    except catalogue.CategoryError as exc:
        say(f"Abgelehnt: {exc}")
        return EXIT_REJECTED
    except QuartierError as exc:
        raise UsageError(f"{args.file}: {exc}") from exc
    say(f"{n} Kategorien geladen.")
    return EXIT_OK


def cmd_kat_export(args) -> int:
    from quartier.offers import catalogue

    say(f"Kategorien geschrieben: {catalogue.export(db.connect(args.db), args.out)}")
    return EXIT_OK


def cmd_net_load(args) -> int:
    from quartier.offers import store

    try:
        n = store.load_network(db.connect(args.db), args.file, actor=access.cli_actor(args.user))
    except QuartierError as exc:
        raise UsageError(str(exc)) from exc
    say(f"Fußwegenetz geladen: {n} Linien. Die Erreichbarkeit wird jetzt im Netz gemessen.")
    return EXIT_OK


def cmd_net_clear(args) -> int:
    from quartier.offers import store

    store.clear_network(db.connect(args.db), actor=access.cli_actor(args.user))
    say("Fußwegenetz entfernt: die Erreichbarkeit wird wieder in Luftlinie gemessen.")
    return EXIT_OK


def _planned(texts: list[str]) -> list:
    from quartier.offers.supply import Planned

    out = []
    for t in texts:
        parts = [s.strip() for s in t.split(",")]
        try:
            if len(parts) not in (2, 3):
                raise ValueError
            nums = [float(x) for x in parts]
        except ValueError as exc:
            raise UsageError(f"--neu „{t}“: bitte LÄNGENGRAD,BREITENGRAD[,PLÄTZE] mit Punkt als Dezimalzeichen, "
                             "z. B. --neu 7.47,51.36,40") from exc
        if len(nums) == 3 and nums[2] < 0:
            raise UsageError(f"--neu „{t}“: die Zahl der Plätze darf nicht negativ sein.")
        out.append(Planned(nums[0], nums[1], nums[2] if len(nums) == 3 else None, f"geplant {len(out) + 1}"))
    return out


def _need(con, year: int, actor):
    from quartier.need.saved import need_classes
    from quartier.offers.supply import Need

    label, rank, order, source = need_classes(con, year, actor=actor)
    return Need(label, rank, order, source)


def _year(con, args) -> int:
    from quartier.offers import catalogue, supply

    ind = getattr(args, "zielgruppe", None) or catalogue.category(con, args.kategorie)["zielgruppe_indikator"]
    return args.jahr if args.jahr is not None else supply.default_year(con, ind)


def cmd_supply(args) -> int:
    from quartier.offers import supply

    if not args.kategorie:
        raise UsageError("Bitte --kategorie NAME angeben (siehe python -m quartier angebote kategorien list).")
    con = db.connect(args.db)
    actor = access.cli_actor(default_user())
    try:
        year = _year(con, args)
        res = supply.supply(con, args.kategorie, year, args.radius, args.zielgruppe, _planned(args.neu),
                            _need(con, year, actor), actor=actor)
    except QuartierError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        emit_json(res.to_json())
        return EXIT_OK
    j = res.to_json()
    s = j["stadt"]
    say(f"{j['kategorie']} {j['jahr']}, Radius {fmt.number(j['radius_m'], 0)} m ({j['distanz']}), Zielgruppe "
        f"{j['zielgruppe']}: {fmt.integer(s['angebote'])} Angebote, {fmt.integer(s['plaetze'])} Plätze, "
        f"{fmt.number(s['plaetze_je_100'])} Plätze je 100." + (f" Hinweis: {res.stadt['hinweis']}." if res.stadt.get("hinweis") else ""))
    for b in (res.bezirke.to_dict("records") if res.bezirke is not None else []):
        say(f"  Stadtbezirk {b['bezirk']}: {fmt.integer(b['angebote'])} Angebote, {fmt.integer(b['plaetze'])} Plätze, "
            f"{fmt.number(b['plaetze_je_100'])} je 100" + (f" ({b['hinweis']})" if b["hinweis"] else ""))
    for r in j["sozialraeume"]:
        say(f"  {r['id']:<6} {r['name'][:30]:<30} {r['angebote']:>3} Angebote {fmt.integer(r['plaetze']):>6} Plätze "
            f"{fmt.number(r['plaetze_je_100']):>6} je 100  "
            f"{fmt.number((r['erreichbar_anteil'] or 0) * 100, 1):>5} % erreichbar  {r['bedarf_klasse'] or ''}")
    return EXIT_OK


def cmd_suggest(args) -> int:
    from quartier.offers import catalogue, locate, sites
    from quartier.uploads import FileRejected

    if not args.kategorie:
        raise UsageError("Bitte --kategorie NAME angeben.")
    if args.anzahl < 1:
        raise UsageError("--anzahl muss mindestens 1 sein.")
    con = db.connect(args.db)
    actor = access.cli_actor(default_user())
    candidates = None
    if args.standorte:
        try:
            candidates = [(s["lon"], s["lat"]) for s in sites.read_sites(con, args.standorte)]
        except sites.SiteError as exc:
            for p in exc.problems:
                say(f"  Fehler: {p}")
            say(f"{args.standorte}: Standortliste abgelehnt ({len(exc.problems)} Fehler); nichts berechnet.")
            return EXIT_REJECTED
        except (FileRejected, QuartierError) as exc:
            raise UsageError(f"{args.standorte}: {exc}") from exc
    try:
        year = _year(con, args)
        res = locate.suggest(con, args.kategorie, args.anzahl, args.radius, year, _need(con, year, actor),
                             candidates=candidates, actor=actor)
    except QuartierError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        emit_json(res)
        return EXIT_OK
    names = dict(con.cursor().execute("SELECT id, name FROM sozialraum").fetchall())
    radius = args.radius or catalogue.category(con, args.kategorie)["radius_m"]
    netz = bool((con.cursor().execute("SELECT count(*) FROM angebot_netz").fetchone() or [0])[0])
    say(locate.explain(res, args.kategorie, radius, names))
    say(f"Entfernung {'entlang des Fußwegenetzes' if netz else 'in Luftlinie'}; Kandidaten: "
        f"{f'{len(candidates)} Standorte aus {args.standorte}' if candidates else 'Raster in der Stadt'}.")
    for v in res["vorschlaege"]:
        say(f"  {v['lat']:.5f}, {v['lon']:.5f} (Breite, Länge) in {names.get(v['sozialraum'], v['sozialraum'])}: "
            f"+{v['neu_erreicht']:.0f}")
    return EXIT_OK
