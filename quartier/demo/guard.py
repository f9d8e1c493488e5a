"""The guard before ``demo --force`` and ``synth --force`` replace what is in a database.

Attack review: ``demo --force`` wiped a production database (recommendations, their append-only history,
Berichtsstände) without a backup, then added the demo's administrator with its published password. Now:
a database with data is replaced only with ``--force``; one that is not a demo only when the user also types
the city's name; a backup is always written first; demo accounts are added only to a demo or a new database.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from quartier import db
from quartier.admin import backup

# Tables whose rows would be lost (the areas count too: a city set up with `init` but not yet filled).
_CONTENT = ("sozialraum", "lieferung", "empfehlung", "benutzer")


def has_content(con: db.Con) -> bool:
    cur = con.cursor()
    tables = {r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    return any(cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed table names
               for t in _CONTENT if t in tables)


def is_demo(con: db.Con) -> bool:
    return db.get_setting(con, "demo", "0") == "1"


def before_replace(con: db.Con, *, force: bool, confirm: str | None, command: str) -> Path | None:
    """Check that ``command`` may replace the content; back it up first. Returns the backup file (or None when
    there was nothing to lose). Raises ``db.DatabaseError`` with a German message when it may not."""
    if not has_content(con):
        return None
    if not force:
        raise db.DatabaseError(f"Die Datenbank enthält schon Daten. `{command} --force` ersetzt alles (nach einer "
                               "Sicherung), oder eine neue Datei mit --db angeben.")
    if not is_demo(con):
        city = (db.get_setting(con, "stadt") or "").strip() or "(ohne Namen)"
        if (confirm or "").strip().casefold() != city.casefold():
            raise db.DatabaseError(
                f"Diese Datenbank ist keine Demo, sondern die Datenbank von „{city}“ mit echten Daten. Zum Ersetzen "
                f"den Namen der Stadt bestätigen: `{command} --force --bestaetigen \"{city}\"` (vorher wird gesichert)."
            )
    try:
        src = backup.database_file(con)
    except backup.BackupError:
        return None  # in memory: nothing on disk to protect
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = backup.backup_dir(con, src) / f"{src.stem}-vor-{command}-{stamp}.duckdb"
    return backup.snapshot(con, target, src)
