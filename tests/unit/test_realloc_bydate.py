"""Deliveries keep the Gebietsstand they were delivered in "by date" (Issue 19): without ``--gebietsstand`` a
delivery on the areas of an earlier Gebietsstand for years before today's began is stored on that one."""

from __future__ import annotations

import json

import pytest

from quartier import db
from quartier.access import SYSTEM
from quartier.values import query
from tests.unit.test_realloc import _two_versions, _xlsx


def _version_of(dbp: str, lid: int) -> int | None:
    con = db.connect(dbp)
    row = con.execute("SELECT gebietsstand_id FROM lieferung_gebietsstand WHERE lieferung_id = ?", [lid]).fetchone()
    con.close()
    return None if row is None else int(row[0])


def test_old_areas_before_the_change_taken_by_date(tmp_path, capsys):
    from quartier.cli import main

    dbp = _two_versions(tmp_path)
    capsys.readouterr()
    f = tmp_path / "einwohner-2019.xlsx"
    _xlsx(f, 2019, {"A": 1000, "B": 300, "C": 100, "D": 500})
    assert main(["import", str(f), "--db", dbp, "--json"]) == 0
    cap = capsys.readouterr()
    out = json.loads(cap.out)  # stdout: only the JSON object, keys as before
    assert out["status"] == "imported" and list(out)[:6] == ["file", "status", "lieferung_id", "rows", "errors", "warnings"]
    assert "nach Datum dem Gebietsstand 1 zugeordnet" in cap.err and "vor dem 01.01.2022" in cap.err
    assert _version_of(dbp, out["lieferung_id"]) == 1
    con = db.connect(dbp)
    v = query.current_raw(con, ["ew"], [2019], actor=SYSTEM).set_index("sozialraum_id")
    con.close()
    assert set(v.index) == {"A1", "A2", "BC", "D"} and v["wert"].sum() == pytest.approx(1900.0)
    assert v.loc["BC", "umgerechnet"].startswith("umgerechnet")


def test_areas_valid_today_stay_on_today(tmp_path, capsys):
    from quartier.cli import main

    dbp = _two_versions(tmp_path)
    capsys.readouterr()
    f = tmp_path / "einwohner-2019-d.xlsx"
    _xlsx(f, 2019, {"D": 500})  # D is in both Gebietsstände: today's areas fit, nothing guessed
    assert main(["import", str(f), "--db", dbp, "--json"]) == 0
    cap = capsys.readouterr()
    assert "nach Datum" not in cap.err and _version_of(dbp, json.loads(cap.out)["lieferung_id"]) is None


def test_old_areas_after_the_change_rejected(tmp_path, capsys):
    from quartier.cli import main

    dbp = _two_versions(tmp_path)
    capsys.readouterr()
    f = tmp_path / "einwohner-2022-alt.xlsx"
    _xlsx(f, 2022, {"A": 1000, "B": 300, "C": 100, "D": 500})  # the year today's Gebietsstand began
    assert main(["import", str(f), "--db", dbp, "--json"]) == 1
    cap = capsys.readouterr()
    assert json.loads(cap.out)["status"] == "rejected" and "nach Datum" not in cap.err
