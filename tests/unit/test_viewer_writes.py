"""Every write action of the core, tried by a viewer (and admin-only ones by an editor): PermissionDenied,
and the database is byte-for-byte unchanged (checksum of every table before and after).

The write functions are collected from the modules that exist; a module listed in WRITE_MODULES that
cannot be imported fails the test (no silent skip)."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path

import pytest

from quartier.access import ADMIN, EDITOR, SYSTEM, VIEWER, Actor, PermissionDenied
from quartier.tables import write_table

VIEWER_ACTOR = Actor("bv-mitglied", VIEWER)
VIEWER_RAW = Actor("bv-rohdaten", VIEWER, raw_data=True)
EDITOR_ACTOR = Actor("fachplanung", EDITOR)
ROOT = Path(__file__).resolve().parents[2]


def checksums(con) -> dict[str, tuple]:
    cur = con.cursor()
    tables = [r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
                                        " ORDER BY 1").fetchall()]
    out = {}
    for t in tables:
        out[t] = cur.execute(
            f'SELECT count(*), md5(coalesce(string_agg(CAST(x AS VARCHAR), \'|\' ORDER BY CAST(x AS VARCHAR)), \'\')) FROM "{t}" x'  # noqa: S608
        ).fetchone()
    return out


def _demo_file() -> Path:
    files = sorted((ROOT / "data" / "demo" / "lieferungen").glob("*.xlsx")) + sorted((ROOT / "data" / "demo").rglob("*.xlsx"))
    return files[0] if files else None


def write_actions(con, tmp_path) -> dict[str, tuple[str, callable]]:
    """name -> (minimum role, call(actor)). Built from the modules present in the repository."""
    from quartier.admin import auth, backup

    cur = con.cursor()
    lid = cur.execute("SELECT min(id) FROM lieferung WHERE status = 'aktiv'").fetchone()[0]
    acts: dict[str, tuple[str, callable]] = {
        "auth.add_user": (ADMIN, lambda a: auth.add_user(con, a, "eindringling", "Administration", "ein-langes-passwort")),
        "auth.set_role": (ADMIN, lambda a: auth.set_role(con, a, "betrachtung", "Administration")),
        "auth.set_disabled": (ADMIN, lambda a: auth.set_disabled(con, a, "admin")),
        "auth.reset_password": (ADMIN, lambda a: auth.reset_password(con, a, "admin", "uebernommen-12345")),
        "backup.restore": (ADMIN, lambda a: backup.restore(tmp_path / "egal.duckdb", tmp_path / "ziel.duckdb", a)),
        "backup.manual": (ADMIN, lambda a: backup.manual(con, a)),
        "auth.save_security_settings": (ADMIN, lambda a: auth.save_security_settings(con, a, {"min_fallzahl": 1})),
    }
    store = importlib.import_module("quartier.ingest.store")
    pipeline = importlib.import_module("quartier.ingest.pipeline")
    demo_file = _demo_file()
    fa = pipeline.analyse_and_compare(con, demo_file.read_bytes(), "neu_" + demo_file.name) if demo_file else None
    acts["ingest.commit"] = (EDITOR, lambda a: store.commit(con, fa, a, confirm_warnings=True))
    acts["ingest.withdraw"] = (EDITOR, lambda a: store.withdraw(con, lid, a, "Test"))
    acts["ingest.accept_suggestion"] = (EDITOR, lambda a: store.accept_suggestion(con, a, "sozialraum", "Wehringhsn", "M04"))

    catalogue = importlib.import_module("quartier.actions.store")
    snapshots = importlib.import_module("quartier.actions.snapshots")
    rec = cur.execute("SELECT min(id) FROM empfehlung").fetchone()[0]
    acts["catalogue.create"] = (EDITOR, lambda a: catalogue.create(con, a, "HE-NEU-1", {"titel": "Neu"}, "Test"))
    acts["catalogue.update"] = (EDITOR, lambda a: catalogue.update(con, a, rec, {"titel": "Geändert"}, "Test"))
    acts["catalogue.bulk_status"] = (EDITOR, lambda a: catalogue.bulk_status(con, a, [rec], "umgesetzt", "Test"))
    acts["catalogue.retire"] = (EDITOR, lambda a: catalogue.retire(con, a, rec, "Test"))
    acts["catalogue.create_snapshot"] = (EDITOR, lambda a: snapshots.create_snapshot(con, a, "Stand Test", date(2026, 1, 1)))
    acts["catalogue.set_stale_months"] = (ADMIN, lambda a: catalogue.set_stale_months(con, a, 1))

    catalogue_io = importlib.import_module("quartier.actions.excel")
    frame = catalogue_io.export_frame(con)  # the catalogue in its own format, one title changed: would write
    frame.iloc[0, 1] = f"{frame.iloc[0, 1]} (geändert)"
    rec_file = tmp_path / "empfehlungen.xlsx"
    write_table(frame, rec_file, sheet="Handlungsempfehlungen")
    preview = catalogue_io.import_file(con, EDITOR_ACTOR, str(rec_file), dry_run=True)
    assert preview.status == "dry-run" and preview.changed == 1, (preview.status, getattr(preview, "errors", None))
    acts["catalogue_io.import_file"] = (EDITOR, lambda a: catalogue_io.import_file(con, a, str(rec_file)))

    index_method = importlib.import_module("quartier.need.method")
    index_compute = importlib.import_module("quartier.need.compute")
    index_store = importlib.import_module("quartier.need.store")
    method = importlib.import_module("quartier.demo.hagen").demo_method()
    acts["index.save_method"] = (EDITOR, lambda a: index_method.save_method(con, {**method, "name": "Viewer-Methode"}, a))
    year = cur.execute("SELECT max(jahr) FROM messwert_aktuell").fetchone()[0]
    result = index_compute.compute(con, method, year, actor=SYSTEM)
    acts["index.store_result"] = (EDITOR, lambda a: index_store.store_result(con, result, a, "Viewer-Ergebnis"))

    maps = importlib.import_module("quartier.areas.maps")
    acts["maps.save_map_settings"] = (ADMIN, lambda a: maps.save_map_settings(con, a, basemap="https://example.org/{z}/{x}/{y}.png"))

    synth = importlib.import_module("quartier.demo.synth")
    acts["synth.build"] = (ADMIN, lambda a: synth.build(con, 30, 3, 2, actor=a))
    return acts


def test_every_write_action_refuses_viewers_and_changes_nothing(con, tmp_path):
    acts = write_actions(con, tmp_path)
    before = checksums(con)
    not_refused = []
    for name, (role, call) in acts.items():
        actors = [None, VIEWER_ACTOR, VIEWER_RAW] + ([EDITOR_ACTOR] if role == ADMIN else [])
        for actor in actors:
            try:
                call(actor)
            except PermissionDenied:
                continue
            except Exception as exc:  # noqa: BLE001 - any other outcome is a failure, reported by name
                not_refused.append((name, getattr(actor, "name", None), repr(exc)[:200]))
            else:
                not_refused.append((name, getattr(actor, "name", None), "ausgeführt"))
        assert checksums(con) == before, f"{name} hat trotz Ablehnung etwas geändert"
    assert not not_refused
    assert len(acts) >= 21, sorted(acts)


def test_the_same_actions_do_work_for_the_right_role(con, tmp_path):
    """Guard against a test that cannot fail: with the right role the writes do change the database."""
    acts = write_actions(con, tmp_path)
    before = checksums(con)
    from quartier.admin import auth

    auth.set_role(con, Actor("root", ADMIN), "betrachtung", "Bearbeitung")
    acts["catalogue.create_snapshot"][1](EDITOR_ACTOR)
    acts["ingest.withdraw"][1](EDITOR_ACTOR)
    after = checksums(con)
    assert after["benutzer"] != before["benutzer"] and after["lieferung"] != before["lieferung"]
    assert after["audit_log"][0] == before["audit_log"][0] + 3


def test_ui_without_login_is_an_anonymous_viewer():
    from quartier.ui.session import ANONYMOUS

    assert ANONYMOUS.role == VIEWER and not ANONYMOUS.can_see_raw
    with pytest.raises(PermissionDenied):
        from quartier.access import require

        require(ANONYMOUS, EDITOR, "x")


def test_viewer_values_are_protected_everywhere_in_the_core(con):
    """Readers that take an actor apply small-number protection for viewers."""
    from quartier.values import indicators

    raw = indicators.current_values(con, ["ohne_abschluss"], actor=SYSTEM)
    small = raw[(raw["zaehler"] > 0) & (raw["zaehler"] < 3)]
    assert len(small) > 0
    v = indicators.current_values(con, ["ohne_abschluss"], actor=VIEWER_ACTOR)
    keyed = v.set_index(["sozialraum_id", "jahr"])
    for r in small.itertuples():
        assert keyed.loc[(r.sozialraum_id, r.jahr), "gesperrt"]
        assert keyed.loc[(r.sozialraum_id, r.jahr), "zaehler"] != keyed.loc[(r.sozialraum_id, r.jahr), "zaehler"]  # NaN
