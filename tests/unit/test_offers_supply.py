"""Supply and reach on hand-made squares with known shares, network reach, the location suggestion."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely

from quartier import access
from quartier.offers import locate, store, supply
from tests.unit.offers_city import ADMIN, E0, N0, add_offer, build, wgs

CIRCLE = math.pi * 100 ** 2 / 1e6  # share of a 1 km² square covered by a 100 m circle


def _fill_city(con):
    build(con)
    return con


@pytest.fixture
def city(filled_con):
    return filled_con(_fill_city)


def _row(res, sid):
    return res.table.set_index("id").loc[sid]


def test_one_offer_inside_gives_circle_share_and_ratio(city):
    add_offer(city, "1", 500, 500, plaetze=50)
    res = supply.supply(city, "Kita", 2024, actor=ADMIN)
    a, b = _row(res, "A"), _row(res, "B")
    assert a["erreichbar_anteil"] == pytest.approx(CIRCLE, rel=2e-3)
    assert b["erreichbar_anteil"] == 0
    assert (a["angebote"], a["plaetze"], a["zielgruppe"], a["plaetze_je_100"]) == (1, 50, 200, pytest.approx(25.0))
    assert (b["angebote"], b["plaetze"]) == (0, 0)
    # city: ratio of sums, not a mean of the areas' ratios
    assert res.stadt["plaetze_je_100"] == pytest.approx(50 / 300 * 100)
    assert res.distanz == supply.LUFTLINIE
    j = res.to_json()
    assert set(j) == {"kategorie", "jahr", "radius_m", "distanz", "zielgruppe", "stadt", "sozialraeume"}
    assert set(j["stadt"]) == {"angebote", "plaetze", "zielgruppe", "plaetze_je_100"}
    assert set(j["sozialraeume"][0]) == {"id", "name", "angebote", "plaetze", "zielgruppe", "plaetze_je_100",
                                         "erreichbar_anteil", "bedarf_klasse"}


def test_offer_on_the_boundary_counts_once_and_reaches_both(city):
    add_offer(city, "1", 1000, 500, plaetze=10)
    res = supply.supply(city, "Kita", 2024, actor=ADMIN)
    a, b = _row(res, "A"), _row(res, "B")
    assert a["angebote"] + b["angebote"] == 1
    assert a["erreichbar_anteil"] == pytest.approx(CIRCLE / 2, rel=5e-3)
    assert b["erreichbar_anteil"] == pytest.approx(CIRCLE / 2, rel=5e-3)


def test_two_overlapping_radii_count_the_union(city):
    add_offer(city, "1", 450, 500)
    add_offer(city, "2", 550, 500)
    res = supply.supply(city, "Kita", 2024, actor=ADMIN)
    r, d = 100.0, 100.0
    lens = 2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)
    assert _row(res, "A")["erreichbar_anteil"] == pytest.approx((2 * math.pi * r * r - lens) / 1e6, rel=3e-3)
    assert _row(res, "A")["angebote"] == 2


def test_offer_closed_in_the_year_does_not_count(city):
    add_offer(city, "1", 500, 500, plaetze=40, ende="2023-12-31")
    assert _row(supply.supply(city, "Kita", 2024, actor=ADMIN), "A")["angebote"] == 0
    assert _row(supply.supply(city, "Kita", 2023, actor=ADMIN), "A")["angebote"] == 1
    add_offer(city, "2", 500, 500, plaetze=40, beginn="2025-01-01")
    assert _row(supply.supply(city, "Kita", 2024, actor=ADMIN), "A")["angebote"] == 0


def test_offer_only_with_sozialraum_counts_in_area_not_in_reach(city):
    add_offer(city, "1", None, None, plaetze=30, sozialraum="B")
    b = _row(supply.supply(city, "Kita", 2024, actor=ADMIN), "B")
    assert (b["angebote"], b["plaetze"], b["erreichbar_anteil"]) == (1, 30, 0)


def test_planned_offer_changes_reach_for_this_run_only_and_outside_is_refused(city):
    lon, lat = wgs(1500, 500)
    res = supply.supply(city, "Kita", 2024, planned=[supply.Planned(lon, lat, 20)], actor=ADMIN)
    assert _row(res, "B")["erreichbar_anteil"] == pytest.approx(CIRCLE, rel=2e-3)
    assert _row(res, "B")["plaetze"] == 20
    assert store.offers(city, actor=ADMIN).empty
    lon, lat = wgs(5000, 500)
    with pytest.raises(store.OfferError, match="außerhalb"):
        supply.supply(city, "Kita", 2024, planned=[supply.Planned(lon, lat)], actor=ADMIN)


def test_suppressed_target_group_is_missing_for_viewers_not_zero(city):
    from quartier import db

    with db.transaction(city) as cur:
        cur.execute("UPDATE messwert SET wert = 2 WHERE sozialraum_id = 'B'")
    add_offer(city, "1", 1500, 500, plaetze=5)
    staff = supply.supply(city, "Kita", 2024, actor=ADMIN)
    viewer = supply.supply(city, "Kita", 2024, actor=access.PUBLIC)
    assert _row(staff, "B")["zielgruppe"] == 2
    assert np.isnan(_row(viewer, "B")["zielgruppe"]) and np.isnan(_row(viewer, "B")["plaetze_je_100"])
    assert viewer.stadt["zielgruppe"] is None and viewer.stadt["plaetze_je_100"] is None


# ------------------------------------------------------------------------------------------------
# Network reach: a path along y = 500 with vertices at x = 100, 400, 900 and a branch north from x = 400


def _line(*pts):
    return {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [wgs(x, y) for x, y in pts]}}


def test_network_distances_and_reach_on_a_small_path_network(city, tmp_path):
    doc = {"type": "FeatureCollection", "features": [_line((100, 500), (400, 500), (900, 500)), _line((400, 500), (400, 900))]}
    path = tmp_path / "netz.geojson"
    path.write_text(json.dumps(doc))
    assert store.load_network(city, path, actor=ADMIN) == 2
    lines = store.network_lines(city)
    g = supply.network_graph(lines)
    ox, oy = np.array([E0 + 100]), np.array([N0 + 500])
    dist = supply.network_distances(g, ox, oy, 1000)
    by_xy = {(round(k[0] - E0), round(k[1] - N0)): v for k, v in dist.items()}
    assert by_xy[(400, 500)] == pytest.approx(300, abs=0.5)
    assert by_xy[(900, 500)] == pytest.approx(800, abs=0.5)
    assert by_xy[(400, 900)] == pytest.approx(700, abs=0.5)
    parts = supply.network_reach(g, ox, oy, 500, 10)
    expected = shapely.buffer(shapely.MultiLineString([[(E0 + 100, N0 + 500), (E0 + 600, N0 + 500)],
                                                       [(E0 + 400, N0 + 500), (E0 + 400, N0 + 700)]]), 10, quad_segs=8)
    got = shapely.union_all(parts)
    assert got.area == pytest.approx(expected.area, rel=0.01)
    assert got.symmetric_difference(expected).area < 0.01 * expected.area
    add_offer(city, "1", 100, 500)
    from quartier import db

    with db.transaction(city) as cur:
        db.set_setting(cur, "angebote_netz_puffer_m", "10")
    res = supply.supply(city, "Kita", 2024, radius=500, actor=ADMIN)
    assert res.distanz == supply.NETZ
    assert _row(res, "A")["erreichbar_anteil"] == pytest.approx(expected.area / 1e6, rel=0.05)


# ------------------------------------------------------------------------------------------------
# Location suggestion


def test_mclp_tiny_instance_has_the_known_optimum():
    dx, dy = np.array([0.0, 1000.0, 2000.0]), np.zeros(3)
    w = np.array([10.0, 5.0, 8.0])
    cx, cy = np.array([0.0, 1000.0, 2000.0, 500.0]), np.zeros(4)
    assert locate.solve_mclp(locate.cover_straight(dx, dy, cx, cy, 600), w, 1) == [3]          # covers 10 + 5 = 15
    assert locate.solve_mclp(locate.cover_straight(dx, dy, cx, cy, 600), w, 2) == [3, 2]       # 15 + 8 = 23, larger gain first


def test_suggestion_reaches_the_uncovered_area(city):
    add_offer(city, "1", 500, 500)
    lon, lat = wgs(1500, 500)
    out = locate.suggest(city, "Kita", 1, radius=400, candidates=[wgs(500, 500), (lon, lat)], actor=ADMIN)
    assert set(out) == {"vorschlaege", "vorher", "nachher"}
    (s,) = out["vorschlaege"]
    assert s["sozialraum"] == "B" and s["neu_erreicht"] > 0
    assert out["nachher"] > out["vorher"]
