from quartier import db


def test_migrations_apply_once(tmp_path):
    path = tmp_path / "q.duckdb"
    con = db.connect(path)
    first = db.schema_version(con)
    assert first >= 1
    assert db.apply_migrations(con) == []  # nothing left to do
    con.close()
    con = db.connect(path)  # reopening applies nothing either
    rows = con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [v for v, _, _ in db.migrations()]
    assert db.schema_version(con) == first


def test_a_failing_update_leaves_the_database_at_its_old_version(tmp_path, monkeypatch):
    path = tmp_path / "q.duckdb"
    db.connect(path).close()
    shipped = db.migrations()
    newest = shipped[-1][0]
    broken = [*shipped, (newest + 1, f"{newest + 1:03d}_neu.sql", "CREATE TABLE neu_a (x INTEGER);"),
              (newest + 2, f"{newest + 2:03d}_kaputt.sql", "ALTER TABLE gibt_es_nicht ADD COLUMN y INTEGER;")]
    monkeypatch.setattr(db, "migrations", lambda: broken)
    con = db.connect(path, migrate=False)
    try:
        db.apply_migrations(con)
    except Exception:  # noqa: BLE001 - whatever DuckDB raises for the broken step
        pass
    else:
        raise AssertionError("the broken migration must fail")
    assert db.schema_version(con) == newest  # neither new step recorded
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'neu_a'").fetchone()[0]
    monkeypatch.setattr(db, "migrations", lambda: broken[:-1])
    assert db.apply_migrations(con) == [newest + 1]  # once fixed, the update goes through
    con.close()


def test_transaction_rolls_back_on_error(empty_con):
    try:
        with db.transaction(empty_con) as cur:
            db.set_setting(cur, "x", "1")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert db.get_setting(empty_con, "x") is None


def test_second_process_gets_clear_message(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    con = db.connect(path)
    code = (
        "import sys; from quartier import db\n"
        "try:\n db.connect(sys.argv[1])\nexcept db.DatabaseError as e:\n print(e); sys.exit(3)\n"
    )
    res = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    con.close()
    assert res.returncode == 3
    assert "anderen Prozess" in res.stdout
