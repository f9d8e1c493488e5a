"""Map builders: classification, palettes (more need = darker), German legend, layer ids, payload size."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from quartier import db
from quartier.access import SYSTEM
from quartier.areas import classes, layers, maps
from quartier.values import indicators

VALUES = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])


def test_quantile_breaks_give_equal_counts():
    cls = classes.classify(VALUES, "%", "higher", "quantile", 5)
    assert len(cls.edges) == 6
    assert [int((cls.classes == i).sum()) for i in range(5)] == [2, 2, 2, 2, 2]


def test_equal_intervals_span_the_data():
    edges = classes.class_breaks([0.0, 10.0, 2.0], "equal", 5)
    assert edges == pytest.approx([0, 2, 4, 6, 8, 10])
    # a value on a break belongs to the upper class, the maximum to the last class
    assert list(classes.assign_classes([0, 2, 9.99, 10, np.nan], edges)) == [0, 1, 4, 4, -1]


def test_fixed_breaks_from_indicator_range_and_from_setting():
    assert classes.class_breaks([5.0, 7.0], "fixed", 4, vmin=0, vmax=100) == pytest.approx([0, 25, 50, 75, 100])
    assert classes.class_breaks([5.0, 47.0], "fixed", breaks=[10, 20, 30]) == pytest.approx([5, 10, 20, 30, 47])


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="Klassifizierung"):
        classes.class_breaks([1.0], "jenks")


def test_identical_values_give_one_class():
    edges = classes.class_breaks([3.0, 3.0, 3.0], "quantile", 5)
    assert edges == [3.0, 3.0]
    assert list(classes.assign_classes([3.0], edges)) == [0]


@pytest.mark.parametrize("palette", list(classes.PALETTES))
def test_more_need_is_darker_for_both_directions(palette):
    higher = classes.class_colors(5, palette, "higher")
    lum = [classes.luminance(c) for c in higher]
    assert lum == sorted(lum, reverse=True), "höhere Klasse muss dunkler sein"
    lower = classes.class_colors(5, palette, "lower")
    assert [classes.luminance(c) for c in lower] == sorted(lum)  # lowest values darkest
    # no class colour is confused with the grey of "keine Daten"/"gesperrt"
    assert classes.MISSING_COLOR not in higher and classes.SUPPRESSED_COLOR not in higher


def test_direction_lower_colours_low_values_dark():
    cls = classes.classify(VALUES, "%", "lower", "quantile", 5)
    low, high = cls.color_of(int(cls.classes[0])), cls.color_of(int(cls.classes[-1]))
    assert classes.luminance(low) < classes.luminance(high)


def test_legend_german_ranges_and_special_entries():
    cls = classes.classify(pd.Series([1.5, 12.5, 1234.5]), "%", "higher", "equal", 2)
    leg = classes.legend(cls, counts_suppressed=1, counts_missing=2)
    labels = [e["label"] for e in leg]
    assert labels[0] == "1,5 bis unter 618,0 %"
    assert labels[1] == "618,0 bis 1.234,5 %"
    assert leg[2]["kind"] == "suppressed" and "gesperrt" in labels[2] and leg[2]["count"] == 1
    assert leg[3]["kind"] == "missing" and "keine Daten" in labels[3] and leg[3]["count"] == 2
    html = classes.legend_html(leg, "SGB-II-Quote (%)")
    assert "618,0 bis 1.234,5 %" in html and "keine Daten" in html and "rgb(" in html


def test_legend_counts_are_integers_for_count_indicators():
    cls = classes.classify(pd.Series([100.0, 2500.0]), "Anzahl", None, "equal", 2)
    assert [e["label"] for e in classes.legend(cls)][:2] == ["100 bis unter 1.300", "1.300 bis 2.500"]


@pytest.fixture(scope="module")
def demo(demo_db):
    con = db.connect(demo_db, read_only=True)
    payload = layers.payload_from_db(con)
    vals = indicators.current_values(con, ["sgb2_u18"], actor=SYSTEM)
    areas = indicators.areas(con)
    yield con, payload, vals, areas
    con.close()


def test_deck_has_layer_ids_and_no_basemap(demo):
    con, payload, vals, areas = demo
    frame = maps.map_frame(vals, areas, 2025, "%", "higher")
    cls = classes.classify(frame["wert"], "%", "higher")
    props = maps.area_properties(frame, cls, "Minderjährige", "%")
    deck = layers.build_deck(payload, props, selected="M04", highlight=["M01", "M04"], axis="B 7")
    spec = json.loads(deck.to_json())
    ids = [layer["id"] for layer in spec["layers"]]
    for lid in (layers.LAYER_AREAS, layers.LAYER_BEZIRKE, layers.LAYER_AXIS, layers.LAYER_AXIS_LABEL, layers.LAYER_LABELS,
                layers.LAYER_SELECTED, layers.LAYER_HIGHLIGHT):
        assert lid in ids
    assert [la["id"] for la in spec["layers"] if la.get("pickable")] == [layers.LAYER_AREAS]
    assert spec.get("mapStyle", "__MAP_STYLE__") == "__MAP_STYLE__" and "mapProvider" not in spec  # no tiles
    feats = spec["layers"][0]["data"]["features"]
    assert len(feats) == 23
    wh = next(f for f in feats if f["properties"]["id"] == "M04")["properties"]
    assert wh["name"] == "Wehringhausen" and wh["rang"] == "1 von 23" and wh["wert_text"].endswith(" %")
    assert wh["bezirk"] == "Hagen-Mitte" and "/" in wh["bruch"]
    axis_label = next(la for la in spec["layers"] if la["id"] == layers.LAYER_AXIS_LABEL)
    assert axis_label["data"][0]["text"] == "B 7"
    assert len(deck.to_json()) < 100_000  # compact JSON, simplified geometry


def test_basemap_is_optional(demo):
    _, payload, _, _ = demo
    deck = layers.build_deck(payload, {}, basemap=layers.CARTO_LIGHT)
    assert json.loads(deck.to_json())["mapStyle"] == layers.CARTO_LIGHT


def test_view_zooms_into_a_district(demo):
    _, payload, _, _ = demo
    city = layers.view_for_bounds(payload.bounds)
    district = layers.view_for_bounds(payload.bezirk_bounds["hohenlimburg"])
    assert district.zoom > city.zoom
    minx, miny, maxx, maxy = payload.bezirk_bounds["hohenlimburg"]
    assert minx < district.longitude < maxx and miny < district.latitude < maxy


def test_suppressed_value_is_grey_and_marked(demo):
    _, payload, vals, areas = demo
    v = vals.copy()
    mask = (v["sozialraum_id"] == "M04") & (v["jahr"] == 2025)
    v.loc[mask, "gesperrt"] = True
    v.loc[mask, ["wert", "zaehler"]] = np.nan
    frame = maps.map_frame(v, areas, 2025, "%", "higher")
    cls = classes.classify(frame["wert"], "%", "higher")
    props = maps.area_properties(frame, cls, "x", "%")
    assert props["M04"]["fill"] == classes.SUPPRESSED_COLOR
    assert props["M04"]["wert_text"] == "•" and "gesperrt" in props["M04"]["hinweis"]
    assert frame.set_index("sozialraum_id").loc["M04", "rang"] != frame.set_index("sozialraum_id").loc["M04", "rang"]


def test_selection_event_to_id():
    ids = ["A", "B", "C"]
    ev = {"selection": {"indices": {layers.LAYER_AREAS: [1]},
                        "objects": {layers.LAYER_AREAS: [{"type": "Feature", "properties": {"id": "B"}}]}}}
    assert layers.selected_from_event(ev, valid_ids=ids) == "B"
    assert layers.selected_from_event({"selection": {"indices": {layers.LAYER_AREAS: [2]}, "objects": {}}}, valid_ids=ids) == "C"
    assert layers.selected_from_event({"selection": {"indices": {}, "objects": {}}}, valid_ids=ids) is None
    assert layers.selected_from_event(None) is None
    # a foreign layer or an unknown id never selects
    assert layers.selected_from_event({"selection": {"indices": {"x": [0]}, "objects": {"x": [{"id": "A"}]}}}, valid_ids=ids) is None
    assert layers.selected_from_event({"selection": {"objects": {layers.LAYER_AREAS: [{"properties": {"id": "Z"}}]}}}, valid_ids=ids) is None


def test_next_selection_map_click_wins_then_box():
    # first run: nothing
    assert layers.next_selection(None, None, None) == (None, None)
    # click on the map selects M04 and is remembered
    assert layers.next_selection("M04", None, "M01") == ("M04", "M04")
    # next run, same map state: the select box (changed by keyboard) decides
    assert layers.next_selection("M04", "M04", "H01") == ("H01", "M04")
    # a new click wins again
    assert layers.next_selection("E01", "M04", "H01") == ("E01", "E01")
    # click cleared (click on empty map): the box keeps its value
    assert layers.next_selection(None, "E01", "E01") == ("E01", None)


def test_summary_text_and_table(demo):
    _, payload, vals, areas = demo
    frame = maps.map_frame(vals, areas, 2025, "%", "higher")
    cls = classes.classify(frame["wert"], "%", "higher")
    text = maps.summary_text(frame, "Minderjährige in SGB-II", "%", 2025, 27.04, direction="higher")
    top = frame.sort_values("wert", ascending=False).iloc[0]
    low = frame.sort_values("wert").iloc[0]
    assert f"Die höchsten Werte haben {top['sozialraum']}" in text
    assert f"Die niedrigsten Werte haben {low['sozialraum']}" in text
    assert "Gesamtstadt: 27,0 %" in text
    table = maps.map_table(frame, cls)
    assert len(table) == 23 and table["wert"].dtype.kind == "f"
    assert table.loc[table["sozialraum_id"] == top["sozialraum_id"], "rang"].iloc[0] == 1
    assert table["klasse"].iloc[0].endswith("%")


@pytest.mark.parametrize("unit", ["%", "je 1.000", "Anzahl", None])
def test_vectorised_texts_equal_format_module(unit):
    from quartier import format as fmt

    vals = np.array([0.0, 1.25, -3.45, 1234.5, 98765.25, np.nan, -0.04])
    dec = classes.decimals_for(unit)
    assert maps._value_texts(vals, unit, dec) == [fmt.value(v, unit, dec) for v in vals]
    assert maps._change_texts(vals, unit, dec) == [fmt.change(v, unit, dec) for v in vals]


def test_map_settings_need_admin_and_are_audited(con):
    from quartier.access import ADMIN, EDITOR, Actor, PermissionDenied

    with pytest.raises(PermissionDenied):
        maps.save_map_settings(con, Actor("ed", EDITOR), basemap=layers.CARTO_LIGHT)
    with pytest.raises(ValueError, match="https://"):
        maps.save_map_settings(con, Actor("ad", ADMIN), basemap="http://tiles.example/style.json")
    with pytest.raises(ValueError, match="keine Zahl"):
        maps.save_map_settings(con, Actor("ad", ADMIN), indicator_id="sgb2_u18", breaks="10; zwanzig")
    maps.save_map_settings(con, Actor("ad", ADMIN), basemap=layers.CARTO_LIGHT, indicator_id="sgb2_u18", breaks="10; 20,5; 30")
    assert db.get_setting(con, maps.SETTING_BASEMAP) == layers.CARTO_LIGHT
    assert maps.parse_breaks(db.get_setting(con, maps.SETTING_BREAKS + "sgb2_u18")) == [10.0, 20.5, 30.0]
    actions = [r[0] for r in con.execute("SELECT aktion FROM audit_log WHERE benutzer = 'ad' ORDER BY id").fetchall()]
    assert actions == ["karte_basiskarte", "karte_klassengrenzen"]


def test_map_table_exports_to_real_xlsx_and_csv(demo, tmp_path):
    from python_calamine import CalamineWorkbook

    from quartier.areas import corridor
    from quartier.tables import to_csv_bytes, to_xlsx_bytes

    con, payload, vals, areas = demo
    frame = maps.map_frame(vals, areas, 2025, "%", "higher")
    cls = classes.classify(frame["wert"], "%", "higher")
    g = corridor.load_geometry(con)
    members = corridor.membership(g.areas_m, g.ids, g.axes_m["B 7"], 500, 0.25)
    table = maps.map_table(frame, cls, members)
    path = tmp_path / "karte.xlsx"
    to_xlsx_bytes({"Karte": table}, path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Karte").to_python()
    header, body = rows[0], rows[1:]
    assert header[:4] == ["sozialraum_id", "sozialraum", "stadtbezirk", "wert"]
    assert {"im_korridor", "abstand_achse_m"} <= set(header)
    wh = next(r for r in body if r[0] == "M04")
    assert isinstance(wh[3], float) and wh[header.index("im_korridor")] in ("ja", "nein")
    assert sum(r[header.index("im_korridor")] == "ja" for r in body) == int(members["in_corridor"].sum())
    csv = to_csv_bytes(table)
    assert csv.startswith(b"\xef\xbb\xbf") and b";" in csv.splitlines()[0]
