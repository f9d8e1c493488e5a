"""Backups of the DuckDB file: automatic before every import and withdrawal, on demand, and restore.

A backup is an exact copy of the database file taken after ``CHECKPOINT`` (which writes the WAL into
the file) while the process-wide write lock is held, so no write can happen in between; the copy
keeps sequences, views and ids exactly (a logical ``COPY FROM DATABASE`` would not keep sequence
positions). Automatic backups go to ``backup_verzeichnis`` (setting; default ``backups/`` next to the
database) and only the newest ``backup_anzahl`` (setting, default 10) are kept. A restore first checks
the file (opens, schema version, tables, counts, every value belongs to a delivery), then keeps a
copy of the current database and replaces it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb

from quartier import db
from quartier.errors import QuartierError

KEEP_DEFAULT = 10
REQUIRED_TABLES = ("schema_version", "einstellung", "stadtbezirk", "sozialraum", "indikator", "lieferung", "messwert", "audit_log")
AUTO_PREFIX = "auto"


class BackupError(QuartierError):
    """Backup or restore failed; German message saying what to do."""


def database_file(con) -> Path:
    """The file behind a connection."""
    rows = con.cursor().execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    if not rows or not rows[0][0]:
        raise BackupError("Die Datenbank liegt nur im Speicher: davon kann keine Sicherung angelegt werden.")
    return Path(rows[0][0])


def backup_dir(con, db_path: Path) -> Path:
    configured = db.get_setting(con, "backup_verzeichnis")
    return Path(configured) if configured else db_path.parent / "backups"


def keep_count(con) -> int:
    try:
        return max(1, int(db.get_setting(con, "backup_anzahl", str(KEEP_DEFAULT))))
    except (TypeError, ValueError):
        return KEEP_DEFAULT


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", (text or "").lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss"))
    return s.strip("-")[:40] or "sicherung"


def _checkpoint(con) -> None:
    cur = con.cursor()
    for attempt in range(50):
        try:
            cur.execute("CHECKPOINT")
            return
        except duckdb.TransactionException:
            if attempt == 49:
                raise
            time.sleep(0.1)  # a reader is still running: wait for it


def snapshot(con, target: Path, db_path: Path | None = None) -> Path:  # noqa: D401
    """Copy the database file to ``target`` consistently (CHECKPOINT + copy under the write lock)."""
    src = Path(db_path) if db_path else database_file(con)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    with db._WRITE_LOCK:
        _checkpoint(con)
        shutil.copyfile(src, tmp)
    os.replace(tmp, target)
    return target


def before_write(con, db_path: str | os.PathLike | None = None, reason: str = "schreiben") -> Path | None:
    """Automatic backup before an import or withdrawal; keeps the newest N. Returns the backup file.

    Call it right before the write transaction (outside of it). ``db_path`` defaults to the
    connection's file. Nothing to lose yet (no delivery stored) or ``backup_auto`` = 0: no backup, None.
    """
    if db.get_setting(con, "backup_auto", "1") == "0":
        return None
    if not con.cursor().execute("SELECT count(*) FROM lieferung").fetchone()[0]:
        return None
    if db_path is None and not con.cursor().execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]:
        return None  # in-memory database (tests): nothing on disk to protect
    src = Path(db_path) if db_path else database_file(con)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = backup_dir(con, src) / f"{src.stem}-{AUTO_PREFIX}-{stamp}-{_slug(reason)}.duckdb"
    snapshot(con, target, src)
    prune(target.parent, src.stem, keep_count(con))
    return target


def manual(con, actor, db_path: str | os.PathLike | None = None) -> Path:
    """A backup on request (administration), e.g. from the app while it holds the database open."""
    from quartier.access import ADMIN, require

    require(actor, ADMIN, "eine Sicherung anlegen")
    src = Path(db_path) if db_path else database_file(con)
    target = backup_dir(con, src) / f"{src.stem}-{datetime.now():%Y%m%d-%H%M%S}.duckdb"
    snapshot(con, target, src)
    with db.transaction(con) as cur:
        db.audit(cur, actor.name, "sicherung_anlegen", str(target), None)
    return target


def prune(directory: Path, stem: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` automatic backups of database ``stem``."""
    files = sorted(Path(directory).glob(f"{stem}-{AUTO_PREFIX}-*.duckdb"), key=lambda p: p.name)
    old = files[:-keep] if keep > 0 else files
    for p in old:
        p.unlink(missing_ok=True)
    return old


def list_backups(con, db_path: Path | None = None) -> list[Path]:
    src = Path(db_path) if db_path else database_file(con)
    d = backup_dir(con, src)
    return sorted(d.glob(f"{src.stem}-*.duckdb"), key=lambda p: p.name, reverse=True) if d.exists() else []


def check(path: str | os.PathLike) -> dict:
    """Open a backup read-only and check that it is a consistent Quartier database. Raises BackupError."""
    p = Path(path)
    if not p.is_file():
        raise BackupError(f"Sicherungsdatei {p} nicht gefunden.")
    # Work on a private copy: a read-only open must not conflict with anyone, and a WAL next to the
    # file must not be replayed into the original.
    with tempfile.TemporaryDirectory(prefix="quartier-check-") as tmpd:
        probe = Path(tmpd) / "probe.duckdb"
        shutil.copyfile(p, probe)
        try:
            con = duckdb.connect(str(probe), read_only=True)
        except duckdb.Error as exc:
            raise BackupError(f"{p} ist keine lesbare DuckDB-Datei ({str(exc).splitlines()[0]}). Bitte eine andere Sicherung wählen.") from exc
        try:
            cur = con.cursor()
            tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            missing = [t for t in REQUIRED_TABLES if t not in tables]
            if missing:
                raise BackupError(f"{p} ist keine Quartier-Datenbank: Tabelle(n) {', '.join(missing)} fehlen.")
            version = cur.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            newest = max(v for v, _, _ in db.migrations())
            if version > newest:
                raise BackupError(f"{p} hat Schema-Version {version}, dieses Programm kennt nur bis {newest}: "
                                  "bitte erst Quartier aktualisieren.")
            counts = {t: cur.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in sorted(tables)}  # noqa: S608 - names from the catalog
            orphans = cur.execute(
                "SELECT count(*) FROM messwert m WHERE NOT EXISTS (SELECT 1 FROM lieferung l WHERE l.id = m.lieferung_id)"
            ).fetchone()[0]
            if orphans:
                raise BackupError(f"{p} ist nicht konsistent: {orphans} Messwerte gehören zu keiner Lieferung.")
            bad_areas = cur.execute(
                "SELECT count(*) FROM messwert m WHERE NOT EXISTS (SELECT 1 FROM sozialraum s WHERE s.id = m.sozialraum_id)"
            ).fetchone()[0]
            if bad_areas:
                raise BackupError(f"{p} ist nicht konsistent: {bad_areas} Messwerte gehören zu keinem Sozialraum.")
            for t in tables:
                cur.execute(f'SELECT * FROM "{t}"').fetchall()  # noqa: S608 - reads every block: checksums are verified on read
        except duckdb.Error as exc:
            raise BackupError(f"{p} ist beschädigt ({str(exc).splitlines()[0]}). Bitte eine andere Sicherung wählen.") from exc
        finally:
            con.close()
    return {"datei": str(p), "schema_version": int(version), "tabellen": counts}


def _move_aside(target: Path) -> Path:
    """Move a database file that cannot be opened (and its WAL) into the backup folder, unchanged."""
    folder = target.parent / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    aside = folder / f"{target.stem}-beschaedigt-{datetime.now():%Y%m%d-%H%M%S-%f}.duckdb"
    os.replace(target, aside)
    wal = target.with_name(target.name + ".wal")
    if wal.exists():
        os.replace(wal, aside.with_name(aside.name + ".wal"))
    return aside


def restore(source: str | os.PathLike, db_path: str | os.PathLike, actor) -> dict:
    """Replace the database at ``db_path`` by the backup ``source`` after :func:`check`.

    The database must not be open elsewhere (the app must be stopped). The current file is kept as
    ``<name>-vor-wiederherstellung-<zeit>.duckdb`` in the backup directory. A current file that cannot be
    opened (corrupt: exactly when a restore is needed) is moved aside unchanged as
    ``<name>-beschaedigt-<zeit>.duckdb`` next to the backups, never deleted.
    """
    from quartier.access import ADMIN, require

    require(actor, ADMIN, "eine Sicherung wiederherstellen")
    info = check(source)
    target = Path(db_path)
    kept = None
    if target.exists():
        try:
            con = db.connect(target, migrate=False)
        except db.DatabaseLocked as exc:  # in use (the app runs): never touch it
            raise BackupError(str(exc)) from exc
        except (db.DatabaseError, duckdb.Error):
            kept = _move_aside(target)
        else:
            try:
                kept = snapshot(con, backup_dir(con, target) / f"{target.stem}-vor-wiederherstellung-{datetime.now():%Y%m%d-%H%M%S}.duckdb", target)
            finally:
                con.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".restore-tmp")
    shutil.copyfile(source, tmp)
    wal = target.with_name(target.name + ".wal")
    if wal.exists():
        wal.unlink()
    os.replace(tmp, target)
    con = db.connect(target)  # applies newer migrations, if any
    try:
        with db.transaction(con) as cur:
            db.audit(cur, actor.name, "wiederherstellen", str(source),
                     json.dumps({"vorher_gesichert": str(kept) if kept else None, "schema_version": info["schema_version"]}))
        info["schema_version_nachher"] = db.schema_version(con)
    finally:
        con.close()
    info["vorher_gesichert"] = str(kept) if kept else None
    return info
