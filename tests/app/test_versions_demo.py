"""The demo city with a second Gebietsstand (two Sozialräume merged): every page renders, the index works."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pytest
import shapely

from quartier import access, db
from quartier.areas import geometry as geo
from quartier.areas import versions
from quartier.ui.pages import PAGES


def merge_two(con) -> tuple[str, str]:
    """Gebietsstand 2 from the demo geometry: the first two touching Sozialräume of one Stadtbezirk merged."""
    rows = con.execute("SELECT id, name, bezirk_id, geometry FROM sozialraum ORDER BY id").fetchall()
    geoms = {r[0]: geo.geom_from_text(r[3]) for r in rows}
    a, b = next((x[0], y[0]) for x in rows for y in rows
                if x[0] < y[0] and x[2] == y[2] and geo.to_metric(geoms[x[0]]).buffer(1).intersects(geo.to_metric(geoms[y[0]])))
    areas = [geo.Area(r[0], r[1], r[2], geoms[r[0]]) for r in rows if r[0] not in (a, b)]
    merged = geo.to_wgs84(shapely.union_all([geo.to_metric(geoms[a]), geo.to_metric(geoms[b])]).buffer(0.5).buffer(-0.5))
    bez = next(r[2] for r in rows if r[0] == a)
    areas.append(geo.Area(f"{a}+{b}", "Zusammengelegt", bez, merged))
    versions.create_version(con, areas, dt.date(2024, 1, 1), user="test")
    return a, b


@pytest.fixture(scope="module")
def merged_template(demo_db, tmp_path_factory):
    """The demo with the merge, made once per module (the new Gebietsstand re-allocates every delivery)."""
    path = tmp_path_factory.mktemp("merged") / "merged.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    ab = merge_two(con)
    con.close()
    return path, ab


@pytest.fixture
def merged_db(demo_copy, merged_template):
    """A private copy of the merged demo, at the path the pages open (``demo_copy``)."""
    template, ab = merged_template
    shutil.copy(template, demo_copy)
    return demo_copy, ab


@pytest.fixture
def run_merged(merged_db, run_page):
    return run_page


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_renders_after_the_change(run_merged, spec):
    at = run_merged(spec.file)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title


def test_gebietsstaende_page_shows_merge(run_merged):
    at = run_merged("views/gebietsstaende.py")
    assert not at.exception
    md = " ".join(m.value for m in at.markdown)
    assert "zusammengelegt" in md
    assert any("Werte vor 2024 auf heutige Sozialräume umgerechnet" in c.value for c in at.caption)


def test_index_across_the_change(merged_db):
    from quartier.demo import hagen
    from quartier.need import compute
    from quartier.need import method as index_method

    path, (a, b) = merged_db
    con = db.connect(path)
    m = index_method.get_method(con, hagen.DEMO_METHOD_NAME)
    res = compute.compute(con, m, 2023, actor=access.SYSTEM)
    ids = list(res.areas["id"])
    assert f"{a}+{b}" in ids and a not in ids and b not in ids
    k = ids.index(f"{a}+{b}")
    assert not np.isnan(res.value[k])  # the merged area has an index value from re-allocated counts
    viewer = compute.compute(con, m, 2023, actor=access.PUBLIC)
    assert viewer is not None
    con.close()
