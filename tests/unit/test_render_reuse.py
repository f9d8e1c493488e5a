"""Work a page run no longer repeats: the corridor test's moved corridors are drawn once per geometry and
reused for the next indicator (same placements as drawn one at a time), and the pages' unvalidated chart
spec is the one ``st.altair_chart`` sends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from quartier.areas import corridor_stats as cs

AXIS = shapely.LineString([(5000.0, -3000.0), (5000.0, 13000.0)])
BOXES = [shapely.box(i * 1000.0, j * 1000.0, (i + 1) * 1000.0, (j + 1) * 1000.0) for j in range(10) for i in range(10)]


def _one_at_a_time(areas, axis, width, share, permutations, seed):
    """The placements as the test drew them before: one moved corridor after the other."""
    xy, owner = cs.sample_points(areas)
    n_pts = np.bincount(owner, minlength=len(areas)).astype(float)
    raster = cs._DistanceRaster(axis, width)
    c = np.array(axis.centroid.coords[0])
    rng = np.random.default_rng(seed)
    rows, tries = [], 0
    while len(rows) < permutations and tries < 50 * permutations:
        batch = min(256, 2 * (permutations - len(rows)) + 8)
        tries += batch
        theta = rng.uniform(0, 2 * np.pi, batch)
        q = xy[rng.integers(0, len(xy), batch)]
        for t, qq in zip(theta, q):
            ct, st_ = np.cos(-t), np.sin(-t)
            d = xy - qq
            moved = np.column_stack([ct * d[:, 0] - st_ * d[:, 1], st_ * d[:, 0] + ct * d[:, 1]]) + c
            ins = np.bincount(owner, weights=raster.within(moved, width), minlength=len(areas)) / n_pts >= share - 1e-9
            if ins.any() and not ins.all():
                rows.append(ins)
                if len(rows) == permutations:
                    break
    return np.array(rows, dtype=bool).reshape(len(rows), len(areas))


@pytest.mark.parametrize("width, share", [(600, 0.25), (400, 0.6), (300, 0.9), (2500, 0.05)])
def test_placements_are_the_ones_drawn_one_at_a_time(width, share):
    cs._PLACEMENTS.clear()
    got = cs.placements(BOXES, AXIS, width, share, permutations=99, seed=7)
    assert np.array_equal(got, _one_at_a_time(BOXES, AXIS, width, share, 99, 7))


def test_placements_on_irregular_areas_and_a_bent_axis_are_the_ones_drawn_one_at_a_time():
    """Areas of different sizes, some far off the axis's raster, and a bent axis: the areas that cannot reach a
    moved corridor are skipped (corridor_stats._Reach), the placements stay the same."""
    rng = np.random.default_rng(5)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(rng.uniform(0, 8000, (60, 2)).tolist()))
    disc = shapely.Point(4000, 4000).buffer(4000)
    areas = [g.intersection(disc) for g in cells.geoms if not g.intersection(disc).is_empty]
    areas += [shapely.box(20000.0, 20000.0, 20040.0, 20030.0), shapely.box(-9000.0, 3000.0, -6000.0, 5000.0)]
    axis = shapely.LineString([(0, 1000), (2000, 3000), (3000, 3500), (5000, 3000), (8000, 6000)])
    for width, share in ((150, 0.1), (600, 0.5)):
        cs._PLACEMENTS.clear()
        got = cs.placements(areas, axis, width, share, permutations=99, seed=11)
        assert len(got) == 99 and np.array_equal(got, _one_at_a_time(areas, axis, width, share, 99, 11))


def test_placements_are_kept_per_geometry_and_parameters(monkeypatch):
    cs._PLACEMENTS.clear()
    first = cs.placements(BOXES, AXIS, 600, 0.25, permutations=99)
    drawn = []
    monkeypatch.setattr(cs, "_draw_placements", lambda *a: drawn.append(a) or np.zeros((0, len(a[0])), dtype=bool))
    assert cs.placements(list(BOXES), AXIS, 600, 0.25, permutations=99) is first  # same areas: kept
    assert not first.flags.writeable  # shared between runs: read-only
    cs.placements(BOXES[:-1], AXIS, 600, 0.25, permutations=99)  # other areas (a protected value left out)
    cs.placements(BOXES, AXIS, 650, 0.25, permutations=99)  # other width
    cs.placements(BOXES, AXIS, 600, 0.3, permutations=99)  # other share
    assert len(drawn) == 3


def test_two_indicators_on_the_same_areas_get_their_own_p_values():
    rng = np.random.default_rng(3)
    inside = np.isin(np.arange(100) % 10, [4, 5])
    den = np.full(100, 1000.0)
    effect = np.round((20 + rng.normal(0, 2, 100) + np.where(inside, 10, 0)) * 10)
    noise = np.round((20 + rng.normal(0, 2, 100)) * 10)
    cs._PLACEMENTS.clear()
    p_effect = cs.permutation_test(BOXES, AXIS, 600, 0.25, inside, effect, den, 100.0, permutations=199)
    p_noise = cs.permutation_test(BOXES, AXIS, 600, 0.25, inside, noise, den, 100.0, permutations=199)
    assert len(cs._PLACEMENTS) == 1  # the second indicator reused the placements
    assert p_effect[0] < 0.05 < p_noise[0] and p_effect[1] == p_noise[1] == 199


def test_page_chart_spec_is_what_st_altair_chart_sends():
    import altair as alt
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    from quartier.ui import vega
    from quartier.values import charts

    df = pd.DataFrame({"jahr": [2020, 2021, 2022] * 2, "wert": [1.5, 2.25, 3.0, 4.0, 3.5, 2.0],
                       "reihe": ["A"] * 3 + ["B"] * 3})
    chart = charts.german(alt.Chart(df).mark_line().encode(x="jahr:O", y="wert:Q", color="reihe:N"))
    assert vega.spec_of(chart) == _convert_altair_to_vega_lite_spec(chart)
