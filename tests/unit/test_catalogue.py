"""Handlungsempfehlungen: status rules, history, snapshots, Excel round trip, access, Wirkungsblick (real DuckDB)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from openpyxl import load_workbook

from quartier.access import EDITOR, SYSTEM, VIEWER, Actor, PermissionDenied
from quartier.actions import effect, model, snapshots, store
from quartier.actions import excel as cio
from quartier.demo import hagen
from quartier.values import indicators

TODAY = hagen.DEMO_REFERENCE_DATE  # 2026-11-01
STAFF = Actor("m.schneider", EDITOR)
VIEWER_ACTOR = Actor("gast", VIEWER)


def flags(con, today=TODAY):
    df = store.catalogue_frame(con, today, actor=SYSTEM).set_index("id")
    return df


def n_history(con) -> int:
    return con.cursor().execute("SELECT count(*) FROM empfehlung_verlauf").fetchone()[0]


# -------------------------------------------------------------------- demo and derived flags


def test_demo_has_examples_across_fields_and_need_areas(con):
    df = flags(con)
    assert len(df) >= 25
    assert set(model.HANDLUNGSFELDER) <= set(df["handlungsfeld"])
    targeted = {s for lst in df["sozialraeume"] for s in lst}
    assert {"M01", "M02", "M04", "S01", "E01"} <= targeted
    assert (df["ebene"] == "stadtweit").any()
    assert df["beispiel"].all()
    assert df["status"].nunique() == len(model.STATUSES)
    assert "Quartierskümmerer Wehringhausen" in set(df["titel"])
    assert (df["vorlage"] == "1069/2020").any() and (df["gremium"] == "Jugendhilfeausschuss").all()


def test_overdue_and_stale_are_derived_for_the_given_day(con):
    df = flags(con)
    # HE-04: in Umsetzung, planned end 31.07.2024, last change 19.06.2023
    assert df.at["HE-04", "ueberfaellig"] and df.at["HE-04", "ohne_aktualisierung"]
    # HE-12: in Umsetzung, planned end 30.06.2025, changed 02.07.2026 -> overdue, not stale
    assert df.at["HE-12", "ueberfaellig"] and not df.at["HE-12", "ohne_aktualisierung"]
    # HE-29: offen, planned end 2027, untouched since 2023 -> stale, not overdue
    assert not df.at["HE-29", "ueberfaellig"] and df.at["HE-29", "ohne_aktualisierung"]
    # done ones are neither
    assert not df.at["HE-01", "ueberfaellig"] and not df.at["HE-01", "ohne_aktualisierung"]
    # HE-20 ends 31.07.2026: not overdue on 01.07.2026, overdue on 01.11.2026
    assert not flags(con, date(2026, 7, 1)).at["HE-20", "ueberfaellig"]
    assert df.at["HE-20", "ueberfaellig"]


def test_stale_threshold_is_a_setting_and_flags_are_never_stored(con):
    assert store.stale_months(con) == 6
    assert flags(con).at["HE-19", "ohne_aktualisierung"]  # last change 10.03.2026
    store.set_stale_months(con, Actor("admin", "Administration"), 12)
    assert store.stale_months(con) == 12
    assert not flags(con).at["HE-19", "ohne_aktualisierung"]
    cols = {r[0] for r in con.cursor().execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'empfehlung'").fetchall()}
    assert not {c for c in cols if "ueberfaellig" in c or "aktualisierung" in c}
    with pytest.raises(PermissionDenied):
        store.set_stale_months(con, STAFF, 3)


# -------------------------------------------------------------------- writing and history


def test_status_change_requires_a_justification(con):
    before = n_history(con)
    with pytest.raises(model.CatalogueError, match="Begründung"):
        store.update(con, STAFF, "HE-04", {"status": "umgesetzt"})
    with pytest.raises(model.CatalogueError, match="Begründung"):
        store.update(con, STAFF, "HE-04", {"status": "umgesetzt"}, justification="   ")
    with pytest.raises(model.CatalogueError, match="Begründung"):
        store.bulk_status(con, STAFF, ["HE-04", "HE-09"], "zurückgestellt", "")
    assert n_history(con) == before
    assert store.get(con, "HE-04", actor=SYSTEM)["status"] == "in Umsetzung"
    # other fields may change without a justification
    store.update(con, STAFF, "HE-04", {"kontakt": "sprache@hagen.example"})
    assert store.get(con, "HE-04", actor=SYSTEM)["kontakt"] == "sprache@hagen.example"


def test_history_records_every_field_with_who_when_and_why(con):
    when = datetime(2026, 11, 2, 10, 30)
    diff = store.update(con, STAFF, "HE-09", {"status": "umgesetzt", "ende_ist": date(2026, 10, 31), "fortschritt": 100,
                                            "sozialraeume": ["S01", "S02"]},
                      justification="Letzter Schulhof fertig.", now=when)
    assert {d[0] for d in diff} == {"status", "ende_ist", "fortschritt", "sozialraeume"}
    h = store.history(con, "HE-09", actor=SYSTEM)
    new = h[h["zeitpunkt"] == pd.Timestamp(when)].set_index("feld")
    assert set(new.index) == {"status", "ende_ist", "fortschritt", "sozialraeume"}
    assert (new.at["status", "alt"], new.at["status", "neu"]) == ("in Umsetzung", "umgesetzt")
    assert (new.at["fortschritt", "alt"], new.at["fortschritt", "neu"]) == ("80", "100")
    assert new.at["sozialraeume", "neu"] == "S01|S02"
    assert (new["begruendung"] == "Letzter Schulhof fertig.").all() and (new["benutzer"] == "m.schneider").all()
    assert h["feld"].iloc[0] == model.CREATED  # the first entry is the creation
    audit = con.cursor().execute("SELECT benutzer, objekt FROM audit_log WHERE aktion = 'empfehlung_aendern'").fetchall()
    assert ("m.schneider", "HE-09") in audit
    # nothing changed -> nothing appended
    before = n_history(con)
    assert store.update(con, STAFF, "HE-09", {"status": "umgesetzt"}, justification="x") == []
    assert n_history(con) == before


def test_progress_is_never_copied_from_status(con):
    store.update(con, STAFF, "HE-19", {"status": "umgesetzt"}, justification="Werkstatt läuft regulär.")
    rec = store.get(con, "HE-19", actor=SYSTEM)
    assert rec["status"] == "umgesetzt" and rec["fortschritt"] == 75
    assert any("Fortschritt 75 %" in h for h in model.hints(rec))


def test_create_bulk_and_retire(con):
    store.create(con, STAFF, "HE-31", {"titel": "Spielplatzpaten Haspe", "handlungsfeld": "Bewegung",
                                     "sozialraeume": ["S01"], "ende_geplant": date(2026, 6, 30)},
               now=datetime(2026, 1, 5, 9))
    with pytest.raises(model.CatalogueError, match="schon vergeben"):
        store.create(con, STAFF, "HE-31", {"titel": "x", "handlungsfeld": "Bewegung"})
    with pytest.raises(model.CatalogueError, match="Titel fehlt"):
        store.create(con, STAFF, "HE-32", {"handlungsfeld": "Bewegung"})
    assert flags(con).at["HE-31", "ueberfaellig"]
    assert store.bulk_status(con, STAFF, ["HE-31", "HE-29", "HE-01"], "in Planung", "Sitzung 01.11.") == 3
    assert {store.get(con, i, actor=SYSTEM)["status"] for i in ("HE-31", "HE-29", "HE-01")} == {"in Planung"}
    store.retire(con, STAFF, "HE-31", "Doppelt zu HE-09.")
    assert "HE-31" not in set(store.listing(con, TODAY, actor=STAFF)["id"])
    assert "HE-31" in set(store.listing(con, TODAY, actor=STAFF, include_retired=True)["id"])
    with pytest.raises(model.CatalogueError, match="Begründung"):
        store.retire(con, STAFF, "HE-30", "")


def test_viewer_cannot_write_and_sees_public_only(con):
    before = n_history(con)
    with pytest.raises(PermissionDenied):
        store.update(con, VIEWER_ACTOR, "HE-04", {"titel": "x"})
    with pytest.raises(PermissionDenied):
        store.create(con, VIEWER_ACTOR, "HE-40", {"titel": "x", "handlungsfeld": "Bildung"})
    with pytest.raises(PermissionDenied):
        store.bulk_status(con, VIEWER_ACTOR, ["HE-04"], "umgesetzt", "x")
    with pytest.raises(PermissionDenied):
        store.retire(con, VIEWER_ACTOR, "HE-04", "x")
    with pytest.raises(PermissionDenied):
        snapshots.create_snapshot(con, VIEWER_ACTOR, "x")
    with pytest.raises(PermissionDenied):
        store.update(con, None, "HE-04", {"titel": "x"})
    assert n_history(con) == before
    assert "HE-27" not in set(store.listing(con, TODAY, actor=VIEWER_ACTOR)["id"])  # internal
    assert "HE-27" in set(store.listing(con, TODAY, actor=STAFF)["id"])
    assert "HE-27" not in set(store.changed_since(con, date(2024, 1, 1), actor=VIEWER_ACTOR)["empfehlung_id"])


# -------------------------------------------------------------------- listing, roll-ups, changes


def test_filters(con):
    ids = lambda **f: set(store.listing(con, TODAY, actor=STAFF, **f)["id"])  # noqa: E731
    assert ids(text="kümmerer") == {"HE-01", "HE-02"}
    assert ids(text="Kümmerer Wehringhausen") == {"HE-02"}
    assert ids(sozialraum=["E01"]) == {"HE-08", "HE-15", "HE-21", "HE-22", "HE-25", "HE-29"}
    assert ids(bezirk=["haspe"]) == {"HE-04", "HE-05", "HE-09", "HE-15", "HE-19", "HE-21", "HE-23"}
    assert ids(handlungsfeld=["Sprache"], status=["in Umsetzung"]) == {"HE-04"}
    assert ids(federfuehrung=["Gesundheitsamt"]) == {"HE-13", "HE-14", "HE-15", "HE-30"}
    assert ids(overdue=True) == {"HE-04", "HE-09", "HE-12", "HE-14", "HE-19", "HE-20", "HE-25"}
    assert ids(overdue=True, stale=True) == {"HE-04", "HE-09", "HE-14", "HE-19", "HE-25"}


def test_rollups_count_every_recommendation(con):
    df = store.listing(con, TODAY, actor=STAFF)
    by_field = store.rollup_wide(df, "handlungsfeld")
    assert by_field["gesamt"].sum() == len(df)
    assert list(by_field.columns[1:-1]) == list(model.STATUS_NAMES)
    by_area = store.rollup(df, "sozialraum")
    m04 = by_area[by_area["sozialraum"] == "Wehringhausen"]
    expected = df[df["sozialraeume"].map(lambda s: "M04" in s)]
    assert m04["anzahl"].sum() == len(expected)
    assert "stadtweit" in set(by_area["sozialraum"])


def test_changed_since(con):
    ch = store.changed_since(con, date(2026, 9, 1), actor=STAFF)
    assert set(ch["empfehlung_id"]) == {"HE-02", "HE-30", "HE-26"}
    row = ch[(ch["empfehlung_id"] == "HE-02") & (ch["feld"] == "status")].iloc[0]
    assert (row["alt"], row["neu"]) == ("in Umsetzung", "umgesetzt")


# -------------------------------------------------------------------- Berichtsstand


def test_snapshot_is_frozen_and_comparable(con):
    a = snapshots.create_snapshot(con, STAFF, "Test A", now=datetime(2026, 11, 2, 8))
    snap_a = snapshots.load_snapshot(con, a, actor=STAFF)
    store.update(con, STAFF, "HE-04", {"status": "umgesetzt", "fortschritt": 100}, "Alle Kitas beteiligt.",
               now=datetime(2026, 11, 2, 9))
    store.update(con, STAFF, "HE-04", {"titel": "Neuer Titel"}, now=datetime(2026, 11, 2, 9, 5))
    pd.testing.assert_frame_equal(snapshots.load_snapshot(con, a, actor=STAFF), snap_a)
    assert snap_a.set_index("id").at["HE-04", "status"] == "in Umsetzung"
    b = snapshots.create_snapshot(con, STAFF, "Test B", now=datetime(2026, 11, 2, 10))
    diff = snapshots.compare_snapshots(con, a, b, actor=STAFF)
    he04 = diff[diff["id"] == "HE-04"].set_index("feld")
    assert he04.at["Status", "a"] == "in Umsetzung" and he04.at["Status", "b"] == "umgesetzt"
    assert he04.at["Titel", "b"] == "Neuer Titel"
    assert set(diff["id"]) == {"HE-04"}
    with pytest.raises(model.CatalogueError, match="schon"):
        snapshots.create_snapshot(con, STAFF, "Test A")


def test_snapshot_at_a_past_date_reproduces_that_state(con):
    snaps = snapshots.snapshots(con).set_index("name")
    march = snapshots.load_snapshot(con, snaps.at["Bericht JHA März 2025", "id"], actor=STAFF).set_index("id")
    assert march.at["HE-06", "status"] == "umgesetzt"        # verstetigt only on 15.09.2025
    assert march.at["HE-18", "status"] == "zurückgestellt"
    assert march.at["HE-18", "ende_geplant"] == "2022-12-31"  # moved to 2026 later
    # a state reconstructed later equals the stored one
    later = snapshots.state_at(con, datetime(2025, 3, 12, 23, 59, 59), actor=SYSTEM)
    he18 = next(r for r in later if r["id"] == "HE-18")
    assert he18["status"] == "zurückgestellt" and he18["fortschritt"] is None
    assert len(march) == len(later)


# -------------------------------------------------------------------- Excel round trip


def test_round_trip_export_import_changes_nothing(con, tmp_path):
    path = tmp_path / "katalog.xlsx"
    cio.export_xlsx(con, path)
    before = n_history(con)
    frame_before = store.catalogue_frame(con, TODAY, actor=SYSTEM)
    res = cio.import_file(con, STAFF, path)
    assert res.status == "imported" and (res.new, res.changed, res.unchanged) == (0, 0, len(frame_before))
    assert n_history(con) == before
    pd.testing.assert_frame_equal(store.catalogue_frame(con, TODAY, actor=SYSTEM), frame_before)
    csv_path = tmp_path / "katalog.csv"
    cio.export_file(con, csv_path)
    res = cio.import_file(con, STAFF, csv_path, dry_run=True)
    assert (res.new, res.changed, res.errors) == (0, 0, [])


def _edit(path, edits: dict[str, object], sheet="Empfehlungen"):
    wb = load_workbook(path)
    ws = wb[sheet]
    for cell, value in edits.items():
        ws[cell] = value
    wb.save(path)


def _cell(path, rec_id, label):
    wb = load_workbook(path)
    ws = wb["Empfehlungen"]
    header = [c.value for c in ws[1]]
    col = header.index(label) + 1
    for row in range(2, ws.max_row + 1):
        if ws.cell(row=row, column=1).value == rec_id:
            return ws.cell(row=row, column=col).coordinate
    raise KeyError(rec_id)


def test_import_status_change_without_justification_names_the_cell_and_changes_nothing(con, tmp_path):
    path = tmp_path / "k.xlsx"
    cio.export_xlsx(con, path)
    status_cell = _cell(path, "HE-04", "Status")
    ok_cell = _cell(path, "HE-12", "Status")
    _edit(path, {status_cell: "umgesetzt", ok_cell: "umgesetzt", _cell(path, "HE-12", "Begründung"): "Fertig."})
    before = n_history(con)
    res = cio.import_file(con, STAFF, path)
    assert res.status == "rejected"
    err = next(e for e in res.errors if e["rule"] == "begruendung_fehlt")
    assert err["sheet"] == "Empfehlungen" and err["cell"] == status_cell and err["column"] == "Status"
    assert status_cell in err["message"] and "Begründung" in err["message"]
    assert n_history(con) == before and store.get(con, "HE-12", actor=SYSTEM)["status"] == "in Umsetzung"


def test_import_preview_validation_and_commit(con, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Empfehlungen"
    ws.append(["Nummer", "Status", "Fortschritt %", "Begründung", "Titel", "Handlungsfeld", "Sozialräume", "Ende geplant"])
    ws.append(["HE-04", "Umgesetzt", 100, "Alle 20 Kitas beteiligt.", None, None, None, None])
    ws.append(["HE-50", "offen", None, None, "Neue Empfehlung", "Sprache", "Wehringhausen|S01", "31.12.2027"])
    path = tmp_path / "status.xlsx"
    wb.save(path)
    # columns Titel etc. exist, so HE-04's empty Titel would clear it -> error naming the cell
    res = cio.import_file(con, STAFF, path, dry_run=True)
    assert res.status == "rejected"
    assert any(e["cell"] == "E2" and e["rule"] == "pflicht" for e in res.errors)
    # a status-update file only carries the columns it changes
    wb2 = Workbook()
    ws2 = wb2.active
    ws2.title = "Empfehlungen"
    ws2.append(["Nummer", "Status", "Fortschritt %", "Begründung"])
    ws2.append(["HE-04", "Umgesetzt", 100, "Alle 20 Kitas beteiligt."])
    ws2.append(["HE-09", "in Umsetzung", "85 %", None])
    ws2.append(["HE-12", "fertig", None, "x"])
    ws2.append(["HE-99", "offen", None, None])
    bad = tmp_path / "bad.xlsx"
    wb2.save(bad)
    res = cio.import_file(con, STAFF, bad)
    cells = {(e["cell"], e["rule"]) for e in res.errors}
    assert ("B4", "format") in cells           # unknown status "fertig"
    assert ("A5", "pflicht") in cells          # new HE-99 without Titel
    assert res.status == "rejected" and store.get(con, "HE-04", actor=SYSTEM)["status"] == "in Umsetzung"
    ws2.delete_rows(4, 2)
    wb2.save(bad)
    preview = cio.import_file(con, STAFF, bad, dry_run=True)
    assert preview.status == "dry-run" and preview.changed == 2 and store.get(con, "HE-04", actor=SYSTEM)["status"] == "in Umsetzung"
    he04 = next(p for p in preview.preview if p["id"] == "HE-04")
    assert {"feld": "status", "label": "Status", "alt": "in Umsetzung", "neu": "umgesetzt"} in he04["aenderungen"]
    res = cio.import_file(con, STAFF, bad, now=datetime(2026, 11, 3, 12))
    assert res.status == "imported"
    assert store.get(con, "HE-04", actor=SYSTEM)["status"] == "umgesetzt" and store.get(con, "HE-09", actor=SYSTEM)["fortschritt"] == 85
    h = store.history(con, "HE-04", actor=SYSTEM)
    assert h.iloc[-1]["begruendung"] == "Alle 20 Kitas beteiligt."
    with pytest.raises(PermissionDenied):
        cio.import_file(con, VIEWER_ACTOR, bad)


def test_import_unreadable_file(con, tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_text("kein Excel")
    with pytest.raises(cio.ImportFileError, match="x.xlsx"):
        cio.import_file(con, STAFF, p)
    with pytest.raises(cio.ImportFileError, match="nicht gefunden"):
        cio.import_file(con, STAFF, tmp_path / "fehlt.xlsx")


# -------------------------------------------------------------------- Wirkungsblick


def test_effect_compares_target_areas_with_rest_of_city(con):
    eff = effect.effect(con, "HE-04", actor=STAFF)
    assert eff["start"] == date(2021, 8, 1) and eff["start_quelle"] == "tatsächlicher Beginn"
    ind = eff["indikatoren"][0]
    assert ind["id"] == "seu_sprache"
    assert ind["vorher_jahre"] == [2018, 2019, 2020] and ind["nachher_jahre"][0] == 2022
    v = indicators.current_values(con, ["seu_sprache"], actor=SYSTEM)
    t = v[v["sozialraum_id"].isin(["M02", "M04", "S01"]) & v["jahr"].isin([2018, 2019, 2020])]
    expected = t["zaehler"].sum() / t["nenner"].sum() * 100
    assert ind["perioden"]["Ziel-Sozialräume"]["vorher"] == pytest.approx(expected)
    assert set(ind["reihe"]["gruppe"]) == {"Ziel-Sozialräume", "übrige Stadt"}
    assert "Wirkungsnachweis" in ind["aussage"] or "etwa wie" in ind["aussage"]
    assert "nicht zeigen" in eff["grenzen"]


def test_effect_states_small_numbers_and_random_variation(con):
    he09 = effect.effect(con, "HE-09", actor=STAFF)["indikatoren"][0]  # one Sozialraum, a school-entry cohort
    p = he09["perioden"]["Ziel-Sozialräume"]
    assert p["basis_vorher"] < 300 and p["basis_nachher"] < 300
    assert "innerhalb der Zufallsschwankung" in he09["aussage"]
    he01 = next(i for i in effect.effect(con, "HE-01", actor=STAFF)["indikatoren"] if i["id"] == "sgb2_u15")
    assert "größer als die bei diesen Fallzahlen zu erwartende Zufallsschwankung" in he01["aussage"]
    assert "kein Beleg" in he01["aussage"]


def test_effect_without_start_or_citywide(con):
    eff = effect.effect(con, "HE-10", actor=STAFF)  # city-wide
    assert set(eff["indikatoren"][0]["reihe"]["gruppe"]) == {"Gesamtstadt"}
    assert any("stadtweit" in h for h in eff["hinweise"])
    store.update(con, STAFF, "HE-29", {"beginn_geplant": None})
    eff = effect.effect(con, "HE-29", actor=STAFF)
    assert eff["indikatoren"] == [] and any("Startdatum" in h for h in eff["hinweise"])
    with pytest.raises(model.CatalogueError):
        effect.effect(con, "HE-27", actor=VIEWER_ACTOR)  # internal
