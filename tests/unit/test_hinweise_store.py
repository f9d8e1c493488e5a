"""Issue 18 §2: Hinweise stored per Lieferung (migration 016): computed at the import, read by
``hinweise --lieferung`` and the pages, marked when the delivery is withdrawn; "seit der letzten Sitzung"."""

from __future__ import annotations

import datetime as dt
import json

from quartier import db, ingest
from quartier.access import EDITOR, PUBLIC, SYSTEM, Actor
from quartier.alerts import hinweise as hw
from quartier.alerts import store
from quartier.cli import main
from tests.unit.ingest_files import long_rows, xlsx
from tests.unit.test_hinweise import city  # noqa: F401  (the hand-made city fixture)

EDIT = Actor("planung", EDITOR)


def _path(con) -> str:
    return con.execute("PRAGMA database_list").fetchall()[0][2]


def test_record_stores_both_views_in_order(city):  # noqa: F811
    n = store.record(city, 2, actor=EDIT)
    live_staff = hw.hinweise(city, actor=SYSTEM, lieferung=2)
    live_viewer = hw.hinweise(city, actor=PUBLIC, lieferung=2)
    assert n == {"roh": len(live_staff), "geschuetzt": len(live_viewer)} and n["roh"] > n["geschuetzt"] > 0
    staff = store.stored(city, 2, actor=SYSTEM)
    viewer = store.stored(city, 2, actor=PUBLIC)
    assert hw.to_json(staff) == hw.to_json(live_staff)          # the same list, the same order
    assert hw.to_json(viewer) == hw.to_json(live_viewer)
    assert ("R7", "auffaellig") in {(h.sozialraum, h.art) for h in staff}
    assert "R7" not in {h.sozialraum for h in viewer}            # protected: the viewer's view never has it
    assert {h.sozialraum_name for h in staff if h.sozialraum == "R1"} == {"Raum R1"}
    assert {h.sozialraum for h in store.stored(city, 2, actor=SYSTEM, bezirk="Süd")} <= {"R5", "R6", "R7"}
    assert store.stored(city, 1, actor=SYSTEM) is None           # nothing stored: the caller computes
    store.record(city, 2, actor=EDIT)                            # again: replaced, not doubled
    assert city.execute("SELECT count(*) FROM hinweis WHERE lieferung_id = 2 AND sicht = 'roh'").fetchone()[0] == n["roh"]


def test_recording_needs_an_editor(city):  # noqa: F811
    import pytest

    from quartier.access import PermissionDenied

    with pytest.raises(PermissionDenied):
        store.record(city, 2, actor=PUBLIC)


def test_cli_reads_the_snapshot_of_the_import(city, capsys):  # noqa: F811
    store.record(city, 2, actor=EDIT)
    # a correction arrives later: R2's 2025 value back at 21 -> computed now, R2 is no longer auffällig
    with db.transaction(city) as cur:
        cur.execute("INSERT INTO lieferung (id, dateiname, sha256, lieferant, berichtsjahr, importiert_von, importiert_am)"
                    " VALUES (3, 'korrektur.xlsx', 'y', 'Test', 2025, 'test', '2025-03-01 10:00')")
        cur.execute("INSERT INTO messwert VALUES (3, 'q', 'R2', 2025, 21, 2100, 10000, false)")
    assert "R2" not in {h.sozialraum for h in hw.hinweise(city, actor=SYSTEM, lieferung=2) if h.art == "auffaellig"}
    path = _path(city)
    city.close()
    assert main(["hinweise", "--db", path, "--lieferung", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert all(set(h) == set(hw.JSON_KEYS) for h in out)
    assert {"sozialraum": "R2", "art": "auffaellig"}.items() <= next(h for h in out if h["sozialraum"] == "R2").items()
    assert main(["hinweise", "--db", path, "--lieferung", "2", "--bezirk", "Süd", "--json"]) == 0
    assert {h["sozialraum"] for h in json.loads(capsys.readouterr().out)} <= {"R5", "R6", "R7"}


def test_withdrawn_delivery_marks_its_hinweise(city, capsys):  # noqa: F811
    n = store.record(city, 2, actor=EDIT)["roh"]
    ingest.withdraw(city, 2, EDIT, "falsche Datei")
    assert store.stored(city, 2, actor=SYSTEM) == [] and store.withdrawn_count(city, 2, actor=SYSTEM) == n
    assert store.deliveries(city).set_index("id").loc[2, "status"] == "zurueckgezogen"
    path = _path(city)
    city.close()
    assert main(["hinweise", "--db", path, "--lieferung", "2", "--json"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out) == [] and f"zurückgezogen: ihre {n} Hinweise gelten nicht mehr" in cap.err


def test_import_through_the_cli_stores_the_hinweise(demo_copy, tmp_path, capsys):
    con = db.connect(demo_copy)
    area = con.execute("SELECT s.name FROM messwert_aktuell m JOIN sozialraum s ON s.id = m.sozialraum_id"
                       " WHERE m.indikator_id = 'sgb2_u18' AND m.jahr = 2025 AND m.nenner > 500"
                       " ORDER BY s.id LIMIT 1").fetchone()[0]
    before = con.execute("SELECT count(*) FROM hinweis_lauf").fetchone()[0]
    con.close()
    # 90 % of 1,000 in 2026: far outside anything the area had -> at least an auffällige Änderung
    f = xlsx(tmp_path / "neu.xlsx", {"D": long_rows([(2026, area, "Minderjährige in SGB-II-Bedarfsgemeinschaften",
                                                     900, 1000, 90.0)])})
    assert main(["import", str(f), "--json", "--db", str(demo_copy)]) == 0
    cap = capsys.readouterr()
    lid = json.loads(cap.out)["lieferung_id"]
    assert f"Lieferung #{lid}:" in cap.err and "Hinweise gespeichert" in cap.err
    con = db.connect(demo_copy)
    runs = con.execute("SELECT sicht, anzahl FROM hinweis_lauf WHERE lieferung_id = ? ORDER BY sicht", [lid]).fetchall()
    assert con.execute("SELECT count(*) FROM hinweis_lauf").fetchone()[0] == before + 2
    items = store.stored(con, lid, actor=SYSTEM)
    con.close()
    assert [r[0] for r in runs] == ["geschuetzt", "roh"] and runs[1][1] == len(items) > 0
    assert {(h.indikator, h.jahr) for h in items if h.art == "auffaellig"} == {("sgb2_u18", 2026)}


def test_demo_deliveries_have_stored_hinweise_and_meetings(demo_db):
    con = db.connect(demo_db, read_only=True)
    d = store.deliveries(con)
    meets = store.meetings(con)
    con.close()
    assert len(d) and d["anzahl_roh"].notna().all() and d["anzahl_geschuetzt"].notna().all()
    assert d["anzahl_roh"].sum() > 0
    assert list(meets["erstellt_am"]) == sorted(meets["erstellt_am"], reverse=True) and len(meets) >= 1


def test_seit_the_last_meeting_takes_only_later_deliveries(city, capsys):  # noqa: F811
    # Lieferung 1 imported 15.01.2025, Lieferung 2 on 15.02.2025: a meeting on 01.02.2025 sees only Lieferung 2
    after = hw.hinweise(city, actor=SYSTEM, seit=dt.datetime(2025, 2, 1))
    assert after and {h.jahr for h in after if h.art != "klassenwechsel"} == {2025}
    assert hw.hinweise(city, actor=SYSTEM, seit="2025-03-01") == []
    assert hw.to_json(hw.hinweise(city, actor=SYSTEM, seit="01.01.2025")) == hw.to_json(hw.hinweise(city, actor=SYSTEM))


def test_record_missing_shares_class_changes_without_changing_results(city):  # noqa: F811
    done = store.record_missing(city, actor=EDIT)
    assert set(done) == {1, 2}
    for lid in (1, 2):
        for actor in (SYSTEM, PUBLIC):
            assert hw.to_json(store.stored(city, lid, actor=actor)) == hw.to_json(
                hw.hinweise(city, actor=actor, lieferung=lid))
    assert store.record_missing(city, actor=EDIT) == {}   # nothing left to do
