"""Access commands: user accounts, audit log export, backup and restore."""

from __future__ import annotations

import getpass
import sys
from datetime import date
from pathlib import Path

from quartier import access, db
from quartier.admin import auth, backup
from quartier.cli.base import Rejected, UsageError, default_user, emit_json, say


def register(sub, common) -> None:
    p = sub.add_parser("user", parents=[common], help="Benutzerkonten verwalten (lokale Anmeldung)",
                       description="Legt lokale Benutzerkonten an (Passwort als Argon2-Hash) und ändert Rolle, "
                                   "Status und Passwort. Rollen: Betrachtung, Bearbeitung, Administration. "
                                   "Passwörter werden nie angezeigt: Eingabe verdeckt oder mit --password-stdin.")
    usub = p.add_subparsers(dest="action", title="Aktionen", metavar="AKTION")

    def pw_opts(q):
        q.add_argument("--password-stdin", action="store_true", help="Passwort aus der ersten Zeile von stdin lesen (für Skripte)")

    a = usub.add_parser("add", parents=[common], help="Benutzer anlegen")
    a.add_argument("name", metavar="NAME", help="Benutzername (Buchstaben, Ziffern, . _ @ + -)")
    a.add_argument("--role", required=True, metavar="ROLLE", help="Rolle: Betrachtung, Bearbeitung oder Administration")
    a.add_argument("--raw-data", action="store_true", help="darf auch Werte unter der Mindestfallzahl sehen (nur für Betrachtung relevant)")
    a.add_argument("--no-password", action="store_true", help="ohne lokales Passwort (nur Anmeldung über OIDC)")
    pw_opts(a)
    a.set_defaults(func=cmd_user_add)

    r = usub.add_parser("set-role", parents=[common], help="Rolle ändern")
    r.add_argument("name", metavar="NAME")
    r.add_argument("role", metavar="ROLLE", help="Betrachtung, Bearbeitung oder Administration")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--raw-data", dest="raw", action="store_const", const=True, help="Rohwerte erlauben")
    g.add_argument("--no-raw-data", dest="raw", action="store_const", const=False, help="Rohwerte nicht erlauben")
    r.set_defaults(func=cmd_user_set_role, raw=None)

    d = usub.add_parser("disable", parents=[common], help="Benutzer deaktivieren (Anmeldung nicht mehr möglich)")
    d.add_argument("name", metavar="NAME")
    d.set_defaults(func=cmd_user_disable, enable=False)
    e = usub.add_parser("enable", parents=[common], help="deaktivierten Benutzer wieder aktivieren")
    e.add_argument("name", metavar="NAME")
    e.set_defaults(func=cmd_user_disable, enable=True)

    w = usub.add_parser("reset-password", parents=[common], help="neues Passwort setzen und eine Sperre aufheben")
    w.add_argument("name", metavar="NAME")
    pw_opts(w)
    w.set_defaults(func=cmd_user_reset)

    li = usub.add_parser("list", parents=[common], help="Benutzer auflisten (ohne Passwörter)")
    li.add_argument("--json", action="store_true", help="als JSON auf stdout")
    li.set_defaults(func=cmd_user_list)
    for q in (a, r, d, e, w):
        q.add_argument("--user", default=default_user(), help="wer die Änderung vornimmt (Audit-Log)")
        q.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")

    au = sub.add_parser("audit", parents=[common], help="Audit-Log exportieren",
                        description="Schreibt das Audit-Log (wer hat wann was geändert) als CSV oder XLSX.")
    au.add_argument("--out", required=True, metavar="DATEI", help="Zieldatei (.csv oder .xlsx)")
    au.add_argument("--since", metavar="JJJJ-MM-TT", type=date.fromisoformat, help="ab diesem Tag")
    au.add_argument("--until", metavar="JJJJ-MM-TT", type=date.fromisoformat, help="bis einschließlich diesem Tag")
    au.add_argument("--action", action="append", metavar="AKTION", help="nur diese Aktion (mehrfach möglich)")
    au.add_argument("--sep", default=";", choices=[";", ","], help="Trennzeichen für CSV (Standard ;)")
    au.set_defaults(func=cmd_audit)

    b = sub.add_parser("backup", parents=[common], help="Sicherung der Datenbank anlegen",
                       description="Legt eine konsistente Kopie der Datenbankdatei an (CHECKPOINT + Kopie). "
                                   "Die App hält die Datenbank offen: dann bitte die Sicherung in der App auslösen "
                                   "oder die App kurz beenden.")
    b.add_argument("--out", metavar="ZIEL", help="Zieldatei (.duckdb) oder Verzeichnis (Standard: backups/ neben der Datenbank)")
    b.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    b.set_defaults(func=cmd_backup)

    rs = sub.add_parser("restore", parents=[common], help="Sicherung zurückspielen (nach Prüfung)",
                        description="Prüft die Sicherung (lesbar, Schema-Version, Tabellen, jeder Messwert gehört zu "
                                    "einer Lieferung), sichert die aktuelle Datenbank und ersetzt sie dann. "
                                    "Die App muss dafür beendet sein.")
    rs.add_argument("file", metavar="DATEI", help="Sicherungsdatei (.duckdb)")
    rs.add_argument("--check-only", action="store_true", help="nur prüfen, nichts ersetzen")
    rs.add_argument("--user", default=default_user(), help="wer wiederherstellt (Audit-Log)")
    rs.add_argument("--json", action="store_true", help="Ergebnis als JSON auf stdout")
    rs.set_defaults(func=cmd_restore)


def _read_password(args, confirm: bool = True) -> str:
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        pw = line.rstrip("\r\n")
        if not pw:
            raise UsageError("Auf stdin kam kein Passwort an.")
        return pw
    if not sys.stdin.isatty():
        raise UsageError("Kein Terminal für die verdeckte Eingabe: bitte --password-stdin verwenden.")
    pw = getpass.getpass("Passwort: ")
    if confirm and getpass.getpass("Passwort wiederholen: ") != pw:
        raise UsageError("Die Passwörter stimmen nicht überein.")
    return pw


def _run(args, fn, done: str) -> int:
    con = db.connect(args.db)
    try:
        fn(con, access.cli_actor(args.user))
    except auth.AuthError as exc:
        raise Rejected(str(exc)) from exc
    finally:
        con.close()
    if getattr(args, "json", False):
        emit_json({"user": args.name, "ok": True, "message": done})
    else:
        say(done)
    return 0


def cmd_user_add(args) -> int:
    try:
        role = auth.parse_role(args.role)
    except auth.AuthError as exc:
        raise UsageError(str(exc)) from exc
    pw = None if args.no_password else _read_password(args)
    return _run(args, lambda con, actor: auth.add_user(con, actor, args.name, role, pw, raw_data=args.raw_data),
                f"Benutzer „{args.name}“ mit Rolle {role} angelegt.")


def cmd_user_set_role(args) -> int:
    try:
        role = auth.parse_role(args.role)
    except auth.AuthError as exc:
        raise UsageError(str(exc)) from exc
    return _run(args, lambda con, actor: auth.set_role(con, actor, args.name, role, raw_data=args.raw),
                f"Rolle von „{args.name}“ ist jetzt {role}.")


def cmd_user_disable(args) -> int:
    return _run(args, lambda con, actor: auth.set_disabled(con, actor, args.name, disabled=not args.enable),
                f"Benutzer „{args.name}“ {'aktiviert' if args.enable else 'deaktiviert'}.")


def cmd_user_reset(args) -> int:
    pw = _read_password(args)
    return _run(args, lambda con, actor: auth.reset_password(con, actor, args.name, pw),
                f"Passwort von „{args.name}“ neu gesetzt; eine Sperre ist aufgehoben.")


def cmd_user_list(args) -> int:
    con = db.connect(args.db)
    try:
        df = auth.users(con)
    finally:
        con.close()
    if args.json:
        emit_json(df.astype(object).where(df.notna(), None).to_dict("records"))
    else:
        for r in df.to_dict("records"):
            status = "deaktiviert" if r["deaktiviert"] else "aktiv"
            say(f"{r['name']:<24} {r['rolle']:<15} {status}{' · Rohwerte' if r['rohdaten'] else ''}")
        if df.empty:
            say("Noch keine Benutzer angelegt.")
    return 0


def cmd_audit(args) -> int:
    from quartier.admin import audit
    from quartier.tables import TableError, write_table

    con = db.connect(args.db)
    try:
        df = audit.entries(con, access.cli_actor(default_user()), actions=args.action, since=args.since, until=args.until)
        out = write_table(audit.export_frame(df), args.out, sep=args.sep, sheet="Audit-Log")
    except TableError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        con.close()
    say(f"Audit-Log mit {len(df)} Einträgen geschrieben: {out}")
    return 0


def cmd_backup(args) -> int:
    path = db.db_path(args.db)
    if not path.exists():
        raise UsageError(f"Datenbank {path} gibt es nicht.")
    con = db.connect(path, migrate=False)
    try:
        if args.out and Path(args.out).suffix.lower() == ".duckdb":
            target = Path(args.out)
        else:
            from datetime import datetime

            folder = Path(args.out) if args.out else backup.backup_dir(con, path)
            target = folder / f"{path.stem}-{datetime.now():%Y%m%d-%H%M%S}.duckdb"
        out = backup.snapshot(con, target, path)
    finally:
        con.close()
    info = backup.check(out)
    if args.json:
        emit_json({"backup": str(out), "schema_version": info["schema_version"], "tabellen": info["tabellen"]})
    else:
        say(f"Sicherung geschrieben und geprüft: {out}")
    return 0


def cmd_restore(args) -> int:
    try:
        if args.check_only:
            info = backup.check(args.file)
        else:
            info = backup.restore(args.file, db.db_path(args.db), access.cli_actor(args.user))
    except backup.BackupError as exc:
        if not Path(args.file).exists():
            raise UsageError(str(exc)) from exc
        raise Rejected(str(exc)) from exc
    if args.json:
        emit_json(info)
    elif args.check_only:
        say(f"Sicherung ist in Ordnung: Schema-Version {info['schema_version']}, {info['tabellen'].get('messwert', 0)} Messwerte.")
    else:
        say(f"Wiederhergestellt aus {args.file}" + (f"; die vorherige Datenbank liegt in {info['vorher_gesichert']}." if info.get("vorher_gesichert") else "."))
    return 0
