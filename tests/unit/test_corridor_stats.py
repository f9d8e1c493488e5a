"""Issue 18 §4: the spatial permutation test on a constructed map (small p with a corridor effect, large
without), Moran's I / LISA on a clustered map, and the corridor CLI's new keys."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely

from quartier.areas import corridor_stats as cs
from quartier.cli import main

CELL = 1000.0
AXIS = shapely.LineString([(5000.0, -3000.0), (5000.0, 13000.0)])
BOXES = [shapely.box(i * CELL, j * CELL, (i + 1) * CELL, (j + 1) * CELL) for j in range(10) for i in range(10)]
IDS = [f"G{k:03d}" for k in range(100)]
COL = np.array([k % 10 for k in range(100)])
INSIDE = np.isin(COL, [4, 5])  # the two columns the 600-m band around x = 5 km covers


def _frame(rates, den=1000):
    z = np.round(np.asarray(rates) / 100 * den)
    return pd.DataFrame({"sozialraum_id": IDS, "in_corridor": INSIDE, "wert": z / den * 100, "zaehler": z,
                         "nenner": float(den), "gesperrt": False})


def test_membership_of_the_constructed_map():
    xy, owner = cs.sample_points(BOXES)
    raster = cs._DistanceRaster(AXIS, 600)
    frac = np.bincount(owner, weights=raster.within(xy, 600), minlength=100) / np.bincount(owner)
    assert ((frac >= 0.25) == INSIDE).all()


def test_corridor_effect_gives_small_p():
    rng = np.random.default_rng(1)
    rates = 20 + rng.normal(0, 2, 100) + np.where(INSIDE, 10, 0)
    t = cs.analyse(BOXES, IDS, AXIS, 600, 0.25, _frame(rates), "%", permutations=199)
    assert t.permutations == 199
    assert t.observed == pytest.approx(10, abs=1.5)
    assert t.p_value < 0.02


def test_no_effect_gives_large_p():
    rng = np.random.default_rng(2)
    rates = 20 + rng.normal(0, 2, 100)
    t = cs.analyse(BOXES, IDS, AXIS, 600, 0.25, _frame(rates), "%", permutations=199)
    assert t.p_value > 0.2


def test_spatial_trend_alone_is_not_a_corridor_effect():
    # a west-east gradient: the corridor in the middle is average; neighbours alike (Moran's I high)
    rng = np.random.default_rng(3)
    rates = 10 + 2.0 * COL + rng.normal(0, 0.5, 100)
    t = cs.analyse(BOXES, IDS, AXIS, 600, 0.25, _frame(rates), "%", permutations=199)
    assert t.p_value > 0.2
    assert t.moran_i > 0.5 and t.moran_p < 0.01
    assert set(t.lisa["cluster"]) >= {"Hot Spot (hoch, Nachbarn hoch)", "Cold Spot (niedrig, Nachbarn niedrig)"}
    hot = t.lisa[t.lisa["cluster"].str.startswith("Hot")]["sozialraum_id"]
    assert (COL[[IDS.index(s) for s in hot]] >= 6).all()  # hot spots in the east, none in the west


def test_protected_values_are_left_out():
    rng = np.random.default_rng(4)
    f = _frame(20 + rng.normal(0, 2, 100))
    f.loc[:9, "gesperrt"] = True
    t = cs.analyse(BOXES, IDS, AXIS, 600, 0.25, f, "%", permutations=99)
    assert t.p_value is not None and "10 Sozialräume" in t.notes[0]
    assert len(t.lisa) == 90


def test_corridor_cli_json_has_test_and_moran(demo_db, capsys):
    assert main(["corridor", "--db", str(demo_db), "--indicator", "sgb2_u15", "--year", "2025", "--width", "500",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"axis", "inside", "outside", "difference", "sentence", "sozialraeume"} <= set(out)
    assert set(out["test"]) == {"method", "p_value", "permutations"} and out["test"]["permutations"] == 999
    assert 0 < out["test"]["p_value"] <= 1
    assert set(out["moran"]) == {"I", "p_value"}
