"""Per-run lookups of the UI (connection, data stamp, settings): once per script run, yet a page that writes
sees its own write at once, and nothing is remembered between runs."""

from __future__ import annotations

from quartier import db
from quartier.ui import common


def test_data_stamp_and_settings_follow_a_write_inside_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("QUARTIER_DB", str(tmp_path / "q.duckdb"))
    common.begin_run()
    try:
        con = common.get_con()
        assert common.get_con() is con
        before = common.data_stamp()
        assert common.city_name() == "Stadt"
        with db.transaction(con) as cur:  # what a page does through the core: write and audit
            db.set_setting(cur, "stadt", "Teststadt")
            db.audit(cur, "test", "einstellung_aendern", "stadt", "Teststadt")
        assert common.data_stamp() > before
        assert common.city_name() == "Teststadt"
    finally:
        common.end_run()


def test_outside_a_run_every_call_asks_the_database(tmp_path, monkeypatch):
    monkeypatch.setenv("QUARTIER_DB", str(tmp_path / "q.duckdb"))
    common.begin_run()
    stamp = common.data_stamp()
    common.end_run()
    # a write that does not go through db.transaction (another tool in this process)
    common.get_con().execute("INSERT INTO audit_log (benutzer, aktion) VALUES ('test', 'import')")
    assert common.data_stamp() > stamp
    assert common.per_run("x", lambda: object()) is not common.per_run("x", lambda: object())
