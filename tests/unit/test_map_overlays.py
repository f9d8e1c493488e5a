"""Map labels that do not overlap, the corridor as outline + hatch, similar-area outlines, LISA colours."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box, shape

from quartier import db
from quartier.areas import geometry as geo
from quartier.areas import labels, layers, overlays


def _boxes_overlap(x, y, w, h, i, j) -> bool:
    return 2 * abs(x[i] - x[j]) < w[i] + w[j] and 2 * abs(y[i] - y[j]) < h[i] + h[j]


def test_overlapping_labels_are_dropped_and_separate_ones_kept():
    # 0 and 1 overlap (1 has the larger area, so it wins); 2 is far away; 3 overlaps only 0 (dropped with it)
    x = np.array([100.0, 110.0, 400.0, 60.0])
    y = np.array([100.0, 104.0, 100.0, 100.0])
    w = np.array([60.0, 60.0, 60.0, 20.0])
    h = np.array([14.0, 14.0, 14.0, 14.0])
    keep = labels.declutter(x, y, w, h, priority=np.array([1.0, 5.0, 0.5, 0.1]))
    assert keep.tolist() == [False, True, True, True]
    # with 0 the largest: 0 kept, 1 and 3 (both touching 0) dropped
    keep = labels.declutter(x, y, w, h, priority=np.array([9.0, 5.0, 0.5, 0.1]))
    assert keep.tolist() == [True, False, True, False]


def test_declutter_ties_go_to_input_order_and_result_never_overlaps():
    rng = np.random.default_rng(3)
    n = 3000
    x, y = rng.random(n) * 800, rng.random(n) * 600
    w, h = 30 + rng.random(n) * 80, np.full(n, 16.0)
    prio = rng.integers(0, 5, n).astype(float)  # many ties
    keep = labels.declutter(x, y, w, h, prio)
    assert keep.any() and not keep.all()
    kept = np.nonzero(keep)[0]
    for a in range(len(kept)):
        for b in range(a + 1, len(kept)):
            assert not _boxes_overlap(x, y, w, h, kept[a], kept[b])
    # greedy: every dropped label collides with a kept one of at least its priority
    dropped = np.nonzero(~keep)[0][:200]
    for i in dropped:
        assert any(_boxes_overlap(x, y, w + 2, h + 2, i, j) and prio[j] >= prio[i] for j in kept)
    assert labels.declutter(x, y, w, h, prio).tolist() == keep.tolist()  # deterministic


def test_placed_labels_skip_empty_texts_and_depend_on_zoom():
    pos = [(7.47, 51.36), (7.4705, 51.36), (7.52, 51.38), (7.53, 51.38)]
    texts = ["Wehringhausen", "Eilpe", "Haspe", ""]
    far = labels.placed_labels(pos, texts, [1.0, 2.0, 0.5, 9.0], zoom=11, size=12)
    near = labels.placed_labels(pos, texts, [1.0, 2.0, 0.5, 9.0], zoom=17, size=12)
    assert far.tolist() == [1, 2]          # the two close labels collide at city zoom: the larger area wins
    assert near.tolist() == [0, 1, 2]      # zoomed in they fit; the empty label is never placed


def test_text_boxes_grow_with_length_lines_and_size():
    w, h = labels.text_boxes(["ab", "abcd", "ab\nabcd"], 12)
    assert w[1] > w[0] and w[2] == w[1] and h[2] > h[1]
    w2, _ = labels.text_boxes(["abcd"], 18)
    assert w2[0] > w[1]


def test_hatch_lines_lie_inside_the_polygon_and_are_parallel():
    poly = LineString([(0, 0), (3000, 500), (6000, 0)]).buffer(400)
    lines = overlays.hatch_lines(poly, 100)
    assert len(lines) > 20
    union = shapely.union_all(lines)
    assert poly.buffer(0.01).contains(union)
    angles = {round(np.degrees(np.arctan2(*(np.subtract(ln.coords[-1], ln.coords[0])[::-1]))) % 180) for ln in lines}
    assert angles == {45}


@pytest.fixture(scope="module")
def payload(demo_db):
    con = db.connect(demo_db, read_only=True)
    yield layers.payload_from_db(con)
    con.close()


def test_corridor_is_outline_and_hatch_not_fill(payload):
    from quartier.areas import corridor

    axis_m = geo.to_metric(payload.axes["B 7"]["wgs84"])
    band = corridor.corridor_polygon(axis_m, 500)
    spec = json.loads(layers.build_deck(payload, {}, corridor=band, axis="B 7").to_json())
    by_id = {la["id"]: la for la in spec["layers"]}
    outline = by_id[layers.LAYER_CORRIDOR]
    assert outline["filled"] is False and outline["stroked"] is True and "getFillColor" not in outline
    hatch = by_id[layers.LAYER_CORRIDOR_HATCH]
    assert hatch["@@type"] == "PathLayer" and len(hatch["data"]) >= 10
    inside = band.buffer(1e-4)  # ~10 m tolerance for rounding to 5 decimals
    for p in hatch["data"]:
        assert inside.contains(LineString(p["path"]))
    ids = [la["id"] for la in spec["layers"]]
    # above the class colours, below the district boundaries
    assert ids.index(layers.LAYER_AREAS) < ids.index(layers.LAYER_CORRIDOR_HATCH) < ids.index(layers.LAYER_BEZIRKE)


def test_labels_in_the_deck_do_not_overlap_at_the_opening_zoom(payload):
    view = layers.view_for_bounds(payload.bounds, 300, 270)  # small map: some labels must go
    props = {i: {"id": i, "name": n, "fill": [200, 200, 200, 255], "label": n} for i, n in payload.names.items()}
    spec = json.loads(layers.build_deck(payload, props, view=view).to_json())
    lab = next(la for la in spec["layers"] if la["id"] == layers.LAYER_LABELS)
    assert 0 < len(lab["data"]) < len(payload.ids)
    xy = np.array([labels.to_pixels(d["position"][0], d["position"][1], view.zoom) for d in lab["data"]])
    w, h = labels.text_boxes([d["text"] for d in lab["data"]], layers.LABEL_SIZE)
    for a in range(len(xy)):
        for b in range(a + 1, len(xy)):
            assert not _boxes_overlap(xy[:, 0], xy[:, 1], w, h, a, b)
    # the larger areas are the ones labelled
    kept = {d["text"] for d in lab["data"]}
    biggest = max(payload.ids, key=lambda i: payload.area_km2[i])
    assert payload.names[biggest] in kept


def test_similar_areas_are_outlined_without_fill(payload):
    spec = json.loads(layers.build_deck(payload, {}, similar=["M01", "M02"], selected="M04").to_json())
    lay = next(la for la in spec["layers"] if la["id"] == layers.LAYER_SIMILAR)
    assert lay["filled"] is False and sorted(f["properties"]["id"] for f in lay["data"]["features"]) == ["M01", "M02"]
    for f in lay["data"]["features"]:
        assert shape(f["geometry"]).is_valid


def test_lisa_colours_and_legend_cover_every_category():
    legend = overlays.lisa_legend(["Hot Spot (hoch, Nachbarn hoch)", "nicht signifikant", None, "nicht signifikant"])
    counts = {e["label"]: e["count"] for e in legend}
    assert counts["Hot Spot (hoch, Nachbarn hoch)"] == 1 and counts["nicht signifikant"] == 2
    assert counts["Cold Spot (niedrig, Nachbarn niedrig)"] == 0 and counts[overlays.NO_VALUE] == 1
    assert overlays.lisa_color("Hot Spot (hoch, Nachbarn hoch)") != overlays.lisa_color("nicht signifikant")


def test_hatch_of_an_empty_polygon_is_empty():
    assert overlays.hatch_paths(Polygon(), 12) == [] and overlays.hatch_lines(box(0, 0, 0, 0), 10) == []


def test_tooltip_interval_texts_equal_the_core_formatter():
    import pandas as pd

    from quartier.areas import classes, maps
    from quartier.values import uncertainty

    values = pd.DataFrame({"sozialraum_id": ["A", "B", "C", "D"], "jahr": [2025] * 4,
                           "wert": [12.4, 50.0, None, 3.0], "zaehler": [124.0, 19.0, None, 3.0],
                           "nenner": [1000.0, 38.0, None, 100.0], "gesperrt": [False, False, False, True]})
    areas = pd.DataFrame({"id": ["A", "B", "C", "D"], "name": ["Aa", "Bb", "Cc", "Dd"], "bezirk": ["X"] * 4})
    frame = maps.map_frame(values, areas, 2025, "%", "higher")
    props = maps.area_properties(frame, classes.classify(frame["wert"], "%", "higher"), "Quote", "%")
    for sid in ("A", "B"):
        r = frame[frame["sozialraum_id"] == sid].iloc[0]
        assert props[sid]["wert_text"] + props[sid]["ki"] == uncertainty.text(r["wert"], r["ki_unten"], r["ki_oben"], "%", 1)
    assert props["A"]["wert_text"] + props["A"]["ki"] == "12,4 % (10,5–14,6)"
    assert props["C"]["ki"] == "" and props["D"]["ki"] == ""  # no value; protected: no interval
    assert np.isnan(frame.loc[3, "ki_unten"])
    html = layers.tooltip_html("Quote")
    assert "<b>{wert_text}</b>{ki}" in html and "95-%-Konfidenzintervall" in html


def test_lisa_text_alternative_and_table():
    import pandas as pd

    lisa = pd.DataFrame({"sozialraum_id": ["A", "B", "C"], "quadrant": [1, 3, 1], "p": [0.01, 0.02, 0.4],
                         "cluster": ["Hot Spot (hoch, Nachbarn hoch)", "Cold Spot (niedrig, Nachbarn niedrig)",
                                     "nicht signifikant"]})
    names = {"A": "Aa", "B": "Bb", "C": "Cc", "D": "Dd"}
    text = overlays.lisa_summary(lisa, names, "Quote", 2025, 4)
    assert "Hot Spot (hoch, Nachbarn hoch): 1 (Aa)" in text and "Cold Spot (niedrig, Nachbarn niedrig): 1 (Bb)" in text
    assert "1 ohne verwendbaren Wert" in text
    t = overlays.lisa_table(lisa, names, ["A", "B", "C", "D"])
    assert t["Nr."].tolist() == ["A", "B", "C", "D"] and t.loc[0, "p"] == "0,010" and t.loc[3, "p"] == "–"
    props = overlays.lisa_properties({i: {"id": i, "fill": [0, 0, 0, 255]} for i in names}, lisa)
    assert props["D"]["lisa"] == overlays.NO_VALUE and props["A"]["fill"][:3] == [178, 24, 43]


def test_area_labels_keep_clear_of_the_axis_name():
    pos = [(7.47, 51.36), (7.52, 51.38)]
    texts = ["Wehringhausen", "Haspe"]
    free = labels.placed_labels(pos, texts, [1.0, 2.0], zoom=12, size=12)
    blocked = labels.placed_labels(pos, texts, [1.0, 2.0], zoom=12, size=12, obstacles=[(7.47, 51.36, "B 7", 16, 0)])
    assert free.tolist() == [0, 1] and blocked.tolist() == [1]


def test_collision_priorities_stay_in_deck_gl_range(payload):
    props = {i: {"id": i, "name": n, "fill": [0, 0, 0, 255], "label": n, "label_prio": 1e9 if i == "M04" else 5.0}
             for i, n in payload.names.items()}
    spec = json.loads(layers.build_deck(payload, props, view=layers.view_for_bounds(payload.bounds, 2000, 1800)).to_json())
    data = next(la for la in spec["layers"] if la["id"] == layers.LAYER_LABELS)["data"]
    assert all(-1000 <= d["prio"] <= 1000 for d in data)
    assert max(data, key=lambda d: d["prio"])["text"] == payload.names["M04"]
