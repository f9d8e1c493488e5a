"""The faster view of current values (migration 010) returns exactly what the definition in 001 returns."""

from __future__ import annotations

from importlib import resources

from quartier import access, db
from quartier.demo import synth

ORIGINAL = resources.files("quartier.schema").joinpath("001_core.sql").read_text(encoding="utf-8")
ORIGINAL_SELECT = ORIGINAL.split("CREATE VIEW messwert_aktuell AS", 1)[1].split(";", 1)[0]
COLS = "indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt, lieferung_id"


def _both(con):
    cur = con.cursor()
    new = cur.execute(f"SELECT {COLS} FROM messwert_aktuell ORDER BY ALL").fetchall()
    old = cur.execute(f"SELECT {COLS} FROM ({ORIGINAL_SELECT}) ORDER BY ALL").fetchall()  # noqa: S608 - fixed SQL
    return new, old


def _delivery(cur, lieferant: str, rows: list[tuple], status: str = "aktiv") -> int:
    lid = cur.execute("INSERT INTO lieferung (dateiname, sha256, lieferant, berichtsjahr, importiert_von, status)"
                      " VALUES ('t.xlsx', 'x', ?, 2025, 'test', ?) RETURNING id", [lieferant, status]).fetchone()[0]
    for ind, sr, jahr, wert in rows:
        cur.execute("INSERT INTO messwert (lieferung_id, indikator_id, sozialraum_id, jahr, wert, zaehler, nenner)"
                    " VALUES (?, ?, ?, ?, ?, NULL, NULL)", [lid, ind, sr, jahr, wert])
    return lid


def test_migration_applied_and_same_rows_on_demo(con):
    assert db.schema_version(con) >= 10
    new, old = _both(con)
    assert new == old and len(new) > 0


def test_same_rows_with_superseding_partial_and_withdrawn_deliveries(tmp_path):
    con = db.connect(tmp_path / "v.duckdb")
    synth.build(con, 12, 4, 3, actor=access.cli_actor("test"))
    with db.transaction(con) as cur:
        # A later delivery replaces two areas' values of one indicator-year (the others stay current) ...
        second = _delivery(cur, "Jobcenter", [("sgb2_u15", "S00001", 2025, 99.0), ("sgb2_u15", "S00002", 2025, 98.0),
                                              ("sgb2_u15", "S00003", 2030, 1.0)])
        # ... a withdrawn one counts for nothing, and a newer one for a single value wins over both.
        _delivery(cur, "Jobcenter", [("sgb2_u15", "S00001", 2025, 11.0)], status="zurueckgezogen")
        third = _delivery(cur, "Jobcenter", [("sgb2_u15", "S00002", 2025, 55.0)])
        db.audit(cur, "test", "test")
    new, old = _both(con)
    assert new == old
    cur = con.cursor()
    got = dict(cur.execute("SELECT sozialraum_id, wert FROM messwert_aktuell WHERE indikator_id = 'sgb2_u15'"
                           " AND jahr = 2025 AND sozialraum_id IN ('S00001', 'S00002')").fetchall())
    assert got == {"S00001": 99.0, "S00002": 55.0}
    lids = dict(cur.execute("SELECT sozialraum_id, lieferung_id FROM messwert_aktuell WHERE indikator_id = 'sgb2_u15'"
                            " AND jahr = 2025 AND sozialraum_id IN ('S00001', 'S00002')").fetchall())
    assert lids == {"S00001": second, "S00002": third}
    # Withdrawing the newest delivery brings the previous value back, in both definitions.
    with db.transaction(con) as cur:
        cur.execute("UPDATE lieferung SET status = 'zurueckgezogen' WHERE id = ?", [third])
        db.audit(cur, "test", "test")
    new, old = _both(con)
    assert new == old
    assert con.cursor().execute("SELECT wert FROM messwert_aktuell WHERE indikator_id = 'sgb2_u15' AND jahr = 2025"
                                " AND sozialraum_id = 'S00002'").fetchone()[0] == 98.0
