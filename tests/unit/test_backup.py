"""Backups: automatic before writes (keeping the newest N), CLI backup/restore round trip, corrupt files rejected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from quartier import db
from quartier.access import ADMIN, VIEWER, Actor, PermissionDenied
from quartier.admin import backup
from quartier.cli.base import main


def counts(path) -> dict:
    c = duckdb.connect(str(path), read_only=True)
    try:
        return {t: c.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ("messwert", "lieferung", "audit_log", "indikator")}
    finally:
        c.close()


def test_before_write_copies_consistently_and_keeps_newest(con, demo_copy, tmp_path):
    with db.transaction(con) as cur:
        db.set_setting(cur, "backup_anzahl", "3")
        db.set_setting(cur, "backup_verzeichnis", str(tmp_path / "sich"))
        db.audit(cur, "test", "vorher", None, None)
    made = [backup.before_write(con, demo_copy, reason=f"Import Lieferung {i}.xlsx") for i in range(5)]
    kept = sorted((tmp_path / "sich").glob("*.duckdb"))
    assert kept == sorted(made[-3:])                      # only the newest 3
    assert "import-lieferung-4-xlsx" in made[-1].name
    info = backup.check(made[-1])
    n_audit = con.cursor().execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert info["tabellen"]["audit_log"] == n_audit       # the last write before the backup is in it
    assert info["tabellen"]["messwert"] == con.cursor().execute("SELECT count(*) FROM messwert").fetchone()[0]


def test_backup_and_restore_round_trip_cli(demo_copy, tmp_path):
    target = tmp_path / "sicherung.duckdb"
    assert main(["backup", "--db", str(demo_copy), "--out", str(target)]) == 0
    original = counts(demo_copy)
    assert counts(target) == {**original, "audit_log": original["audit_log"]}
    # damage the live database: withdraw everything, delete values
    c = db.connect(demo_copy)
    with db.transaction(c) as cur:
        cur.execute("DELETE FROM messwert")
        cur.execute("UPDATE lieferung SET status = 'zurueckgezogen'")
        db.audit(cur, "test", "kaputt", None, None)
    c.close()
    assert counts(demo_copy)["messwert"] == 0
    assert main(["restore", str(target), "--db", str(demo_copy), "--user", "wiederhersteller"]) == 0
    after = counts(demo_copy)
    assert after["messwert"] == original["messwert"] and after["lieferung"] == original["lieferung"]
    c = db.connect(demo_copy)
    try:
        last = c.cursor().execute("SELECT benutzer, aktion FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        assert last == ("wiederhersteller", "wiederherstellen")
        active = c.cursor().execute("SELECT count(*) FROM lieferung WHERE status = 'aktiv'").fetchone()[0]
        assert active == original["lieferung"]
        # ids continue after the restored ones (the sequence came back with the file): no key collision
        old_max = c.cursor().execute("SELECT max(id) FROM lieferung").fetchone()[0]
        with db.transaction(c) as cur:
            cur.execute("INSERT INTO lieferung (dateiname, sha256, importiert_von) VALUES ('n.xlsx', 'x', 't')")
        assert c.cursor().execute("SELECT max(id) FROM lieferung").fetchone()[0] > old_max
    finally:
        c.close()
    # the damaged state was kept before replacing
    kept = list((demo_copy.parent / "backups").glob("*vor-wiederherstellung*.duckdb"))
    assert len(kept) == 1 and counts(kept[0])["messwert"] == 0


def test_corrupt_and_foreign_files_are_rejected(demo_copy, tmp_path, capsys):
    before = counts(demo_copy)
    garbage = tmp_path / "kaputt.duckdb"
    garbage.write_bytes(b"das ist keine Datenbank" * 1000)
    assert main(["restore", str(garbage), "--db", str(demo_copy)]) == 1
    assert "keine lesbare DuckDB-Datei" in capsys.readouterr().err
    # truncated copy of a real database
    half = tmp_path / "halb.duckdb"
    data = demo_copy.read_bytes()
    half.write_bytes(data[: len(data) // 3])
    assert main(["restore", str(half), "--db", str(demo_copy)]) == 1
    # a DuckDB file that is not a Quartier database
    other = tmp_path / "fremd.duckdb"
    c = duckdb.connect(str(other))
    c.execute("CREATE TABLE x (a INT)")
    c.close()
    assert main(["restore", str(other), "--db", str(demo_copy)]) == 1
    assert "keine Quartier-Datenbank" in capsys.readouterr().err
    # a Quartier database whose values point to a missing delivery
    bad = tmp_path / "inkonsistent.duckdb"
    shutil.copy(demo_copy, bad)
    c = duckdb.connect(str(bad))
    c.execute("DELETE FROM lieferung WHERE id = (SELECT min(id) FROM lieferung)")
    c.close()
    with pytest.raises(backup.BackupError, match="gehören zu keiner Lieferung"):
        backup.check(bad)
    assert main(["restore", str(bad), "--db", str(demo_copy)]) == 1
    assert main(["restore", str(tmp_path / "gibtsnicht.duckdb"), "--db", str(demo_copy)]) == 2
    assert counts(demo_copy) == before                    # nothing was replaced


def test_restore_needs_admin(demo_copy, tmp_path):
    target = tmp_path / "s.duckdb"
    assert main(["backup", "--db", str(demo_copy), "--out", str(target)]) == 0
    with pytest.raises(PermissionDenied):
        backup.restore(target, demo_copy, Actor("rat", VIEWER))
    assert backup.restore(target, demo_copy, Actor("admin", ADMIN))["schema_version"] >= 5


def test_check_only_and_backup_dir_default(demo_copy, capsys):
    assert main(["backup", "--db", str(demo_copy)]) == 0
    files = list((demo_copy.parent / "backups").glob("demo-*.duckdb"))
    assert len(files) == 1
    assert main(["restore", str(files[0]), "--check-only", "--db", str(demo_copy), "--json"]) == 0
    assert '"schema_version"' in capsys.readouterr().out


def test_no_automatic_backup_when_nothing_to_lose_or_switched_off(empty_con, con, tmp_path):
    assert backup.before_write(empty_con, reason="erster Import") is None
    with db.transaction(con) as cur:
        db.set_setting(cur, "backup_auto", "0")
    assert backup.before_write(con, reason="Import") is None


def test_import_and_withdrawal_back_up_first(con, demo_copy):
    """The importer calls backup.before_write: the backup holds the state just before each write."""
    from quartier import ingest
    from tests.unit.ingest_files import long_rows, xlsx

    editor = Actor("pruefer", "Bearbeitung")
    folder = demo_copy.parent / "backups"
    n_before = con.cursor().execute("SELECT count(*) FROM lieferung").fetchone()[0]
    path = xlsx(demo_copy.parent / "korrektur.xlsx", {"D": long_rows([(2025, "M01", "sgb2_u18", 1, 100, 1.0)])})
    fa = ingest.analyse_file(con, path.read_bytes(), path.name)
    rep = ingest.commit(con, fa, editor, confirm_warnings=True)
    made = sorted(folder.glob("*-auto-*.duckdb"))
    assert len(made) == 1 and "import-korrektur-xlsx" in made[0].name
    assert backup.check(made[0])["tabellen"]["lieferung"] == n_before
    ingest.withdraw(con, rep["lieferung_id"], editor)
    made = sorted(folder.glob("*-auto-*.duckdb"))
    assert len(made) == 2 and "rueckzug-lieferung" in made[-1].name
    assert backup.check(made[-1])["tabellen"]["lieferung"] == n_before + 1


def test_restore_works_when_the_current_database_is_corrupt(demo_copy, tmp_path, capsys):
    """Attack review: `restore` refused when the current database was corrupt, exactly when it is needed."""
    import shutil

    from quartier.cli import main

    good = tmp_path / "gut.duckdb"
    shutil.copy(demo_copy, good)
    garbage = b"kein DuckDB" * 5000
    demo_copy.write_bytes(garbage)
    assert main(["restore", str(good), "--db", str(demo_copy), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    aside = Path(info["vorher_gesichert"])
    assert aside.read_bytes() == garbage  # moved aside unchanged, not deleted
    c = db.connect(demo_copy, read_only=True)
    assert c.execute("SELECT count(*) FROM sozialraum").fetchone()[0] == 23
    c.close()
