"""Issue 18 §3 budget: the comparable-area profiles are stored per data stamp, view and indicator set
(``profil_cache``), so a query reads one row instead of all values; a write makes them stale."""

from __future__ import annotations

import numpy as np
import pytest

from quartier import db
from quartier.access import PUBLIC, SYSTEM
from quartier.alerts import similar


def _no_reads(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("Werte gelesen, obwohl das Profil gespeichert ist")

    monkeypatch.setattr(similar.indicators, "current_values", boom)


def test_profiles_are_stored_and_reused(con, monkeypatch):
    ids = similar.default_indicators(con)
    year = similar.latest_year(con, ids)
    first = similar.profiles(con, year, ids, actor=SYSTEM)
    n = con.execute("SELECT count(*) FROM profil_cache").fetchone()[0]
    assert n >= 1
    with monkeypatch.context() as m:
        _no_reads(m)
        again = similar.profiles(con, year, ids, actor=SYSTEM)
        res = similar.similar(con, "M04", year, actor=SYSTEM)
    assert again.ids == first.ids and again.names == first.names and again.indicators == first.indicators
    np.testing.assert_array_equal(again.Z, first.Z)   # NaN in the same places, the same numbers
    assert res == similar.similar_in(first, "M04")
    # the viewer's profiles are a different entry (protected values), never the staff's
    with monkeypatch.context() as m:
        _no_reads(m)
        with pytest.raises(AssertionError, match="Werte gelesen"):
            similar.profiles(con, year, ids, actor=PUBLIC)


def test_a_write_makes_stored_profiles_stale(con, monkeypatch):
    ids = similar.default_indicators(con)
    year = similar.latest_year(con, ids)
    similar.profiles(con, year, ids, actor=SYSTEM)
    with db.transaction(con) as cur:
        db.audit(cur, "test", "einstellung_aendern", "min_fallzahl", None)
    with monkeypatch.context() as m:
        _no_reads(m)
        with pytest.raises(AssertionError, match="Werte gelesen"):
            similar.profiles(con, year, ids, actor=SYSTEM)
    similar.profiles(con, year, ids, actor=SYSTEM)
    stamps = {r[0] for r in con.execute("SELECT stand FROM profil_cache").fetchall()}
    assert stamps == {similar.data_stamp(con)}  # the stale rows were replaced


def test_read_only_connection_computes_without_storing(demo_db):
    ro = db.connect(demo_db, read_only=True)
    ids = similar.default_indicators(ro)
    year = similar.latest_year(ro, ids)
    res = similar.similar(ro, "M04", year, actor=SYSTEM)
    ro.close()
    assert len(res["aehnliche"]) == 5
