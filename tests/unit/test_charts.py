"""Chart specs: gaps for suppressed years, dashed references with a legend, German number format."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from quartier.values import charts


def _values():
    rows = []
    for sr, name, base in (("M04", "Wehringhausen", 10.0), ("S01", "Haspe-Zentrum", 11.0)):
        for k, y in enumerate(range(2018, 2024)):
            status = "wert"
            wert, zaehler = base + 0.5 * k, 100 + k
            if sr == "M04" and y == 2020:
                status, wert, zaehler = "gesperrt", np.nan, np.nan
            if sr == "S01" and y == 2022:
                status, wert, zaehler = "fehlt", np.nan, np.nan
            rows.append({"indikator_id": "q", "sozialraum_id": sr, "sozialraum": name, "bezirk_id": "b1", "bezirk": "Mitte",
                         "jahr": y, "wert": wert, "zaehler": zaehler, "nenner": 1000.0, "gesperrt": status == "gesperrt",
                         "status": status, "lieferung": "jobcenter_2023.xlsx", "rang": 1.0, "n_rang": 23.0})
    refs = []
    for y in range(2018, 2024):
        refs.append({"indikator_id": "q", "ebene": "Stadt", "bezirk_id": None, "name": None, "jahr": y, "wert": 12.25,
                     "zaehler": 2450.0, "nenner": 20000.0, "n": 23, "gesperrt": False, "status": "wert"})
        refs.append({"indikator_id": "q", "ebene": "Stadtbezirk", "bezirk_id": "b1", "name": "Mitte", "jahr": y,
                     "wert": 10.75, "zaehler": 430.0, "nenner": 4000.0, "n": 7, "gesperrt": False, "status": "wert"})
        refs.append({"indikator_id": "q", "ebene": "Stadtbezirk", "bezirk_id": "b9", "name": "Anderswo", "jahr": y,
                     "wert": 30.0, "zaehler": 3.0, "nenner": 10.0, "n": 1, "gesperrt": False, "status": "wert"})
    return pd.DataFrame(rows), pd.DataFrame(refs)


def _layers(spec):
    return spec.get("layer", [])


def test_line_frame_keeps_gaps_as_empty_values_with_marks():
    values, refs = _values()
    f = charts.line_frame(values, refs, "q", "%", city="Hagen")
    sup = f[(f["reihe"] == "Wehringhausen (M04)") & (f["jahr"] == 2020)].iloc[0]
    assert np.isnan(sup["wert"]) and sup["marke"] == "•" and sup["wert_text"] == "•"
    miss = f[(f["reihe"] == "Haspe-Zentrum (S01)") & (f["jahr"] == 2022)].iloc[0]
    assert np.isnan(miss["wert"]) and miss["marke"] == "–" and miss["status_text"] == "kein Wert geliefert"
    # only the districts of the areas shown, plus the city
    assert set(f.loc[f["art"] != "Sozialraum", "reihe"]) == {"Hagen (Stadt)", "Bezirk Mitte"}
    ok = f[(f["reihe"] == "Wehringhausen (M04)") & (f["jahr"] == 2019)].iloc[0]
    assert ok["wert_text"] == "10,5 %" and ok["nenner_text"] == "1.000" and ok["rang_text"] == "1 von 23"


def test_line_chart_spec_gap_not_interpolated_references_dashed_in_legend():
    values, refs = _values()
    f = charts.line_frame(values, refs, "q", "%", city="Hagen")
    spec = charts.german(charts.line_chart(f, "Testquote", "%")).to_dict()
    data = next(iter(spec["datasets"].values()))
    gap = [r for r in data if r["reihe"] == "Wehringhausen (M04)" and r["jahr"] == 2020][0]
    assert gap["wert"] is None  # not 0
    layers = _layers(spec)
    lines = [lyr for lyr in layers if (lyr["mark"]["type"] if isinstance(lyr["mark"], dict) else lyr["mark"]) == "line"]
    assert lines and all(lyr["mark"]["invalid"] == "break-paths-filter-domains" for lyr in lines)
    dashed = [lyr for lyr in lines if "strokeDash" in lyr["encoding"]]
    assert len(dashed) == 1
    assert dashed[0]["encoding"]["strokeDash"]["title"] == "Vergleichswert"
    assert dashed[0]["encoding"]["strokeDash"]["field"] != lines[0]["encoding"]["color"]["field"]
    texts = [lyr for lyr in layers if lyr["mark"]["type"] == "text"]
    assert texts and texts[0]["encoding"]["text"]["field"] == "marke"
    assert {t["title"] for t in lines[0]["encoding"]["tooltip"]} >= {"Wert", "Zähler", "Nenner", "Lieferung"}
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert spec["config"]["locale"]["number"]["thousands"] == "."
    assert spec["config"]["mark"]["aria"] is False  # the alt text and the table carry the content
    assert "(in %)" in layers[0]["encoding"]["y"]["title"]
    # legend click highlights a Sozialraum
    assert any(p.get("bind") == "legend" for p in spec.get("params", []) + [p for lyr in layers for p in lyr.get("params", [])])


def test_rendered_svg_uses_german_numbers_and_shows_suppressed_mark():
    values, refs = _values()
    values.loc[values["sozialraum_id"] == "S01", "wert"] += 1000  # thousands on the axis
    f = charts.line_frame(values, refs, "q", "Anzahl", city="Hagen")
    svg = charts.to_svg(charts.german(charts.export_width(charts.line_chart(f, "Fälle", "Anzahl"))))
    assert "1.000" in svg or "1.010" in svg  # thousands dot on the axis
    assert "•" in svg and "–" in svg
    assert "Vergleichswert" in svg and "Hagen (Stadt)" in svg
    png = charts.to_png(charts.german(charts.export_width(charts.line_chart(f, "Fälle", "Anzahl"))), scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_bar_chart_has_city_rule_and_suppressed_text():
    comp = pd.DataFrame({
        "indikator_id": "q", "sozialraum_id": ["M04", "S01", "H01"], "sozialraum": ["Wehringhausen", "Haspe", "Elsey"],
        "jahr": 2023, "wert": [20.5, np.nan, 8.0], "zaehler": [205, np.nan, 80], "nenner": [1000, 50, 1000],
        "status": ["wert", "gesperrt", "wert"], "rang": [1, np.nan, 2], "n_rang": [2, np.nan, 2],
        "wert_stadt": 12.25, "lieferung": "x.xlsx",
    })
    frame = charts.bar_frame(comp, "q", "%")
    spec = charts.german(charts.bar_chart(frame, "Testquote", "%", "higher", city="Hagen")).to_dict()
    marks = [lyr["mark"]["type"] for lyr in spec["layer"]]
    assert "rule" in marks and "bar" in marks
    svg = charts.to_svg(charts.german(charts.export_width(charts.bar_chart(frame, "Testquote", "%", "higher", city="Hagen"))))
    assert "Hagen: 12,3 %" in svg or "Hagen: 12,2 %" in svg
    assert "20,5 %" in svg and "gesperrt" in svg
    # most need first for "higher"
    bar = next(lyr for lyr in spec["layer"] if lyr["mark"]["type"] == "bar")
    assert bar["encoding"]["y"]["sort"][0] == "Wehringhausen (M04)"
    low = charts.bar_chart(frame, "Testquote", "%", "lower", city="Hagen").to_dict()
    bar = next(lyr for lyr in low["layer"] if lyr["mark"]["type"] == "bar")
    assert bar["encoding"]["y"]["sort"][0] == "Elsey (H01)"


def test_small_multiples_one_panel_per_indicator_city_only_for_rates():
    values, refs = _values()
    counts = values.assign(indikator_id="ew", wert=values["wert"] * 100)
    meta = pd.DataFrame({"id": ["q", "ew"], "kurzname": ["Quote", "Einwohner"], "einheit": ["%", "Anzahl"]}).set_index("id")
    refs2 = pd.concat([refs, refs.assign(indikator_id="ew", wert=100000.0)], ignore_index=True)
    f = charts.multiples_frame(pd.concat([values[values["sozialraum_id"] == "M04"], counts[counts["sozialraum_id"] == "M04"]]),
                               refs2, meta, city="Hagen")
    assert list(dict.fromkeys(f["titel"])) == ["Quote (in %)", "Einwohner (Anzahl)"]
    assert set(f.loc[f["indikator_id"] == "ew", "art"]) == {"Sozialraum"}
    assert "Stadt" in set(f.loc[f["indikator_id"] == "q", "art"])
    spec = charts.small_multiples(f).to_dict()
    assert [p["title"]["text"] for p in spec["concat"]] == ["Quote (in %)", "Einwohner (Anzahl)"]
    assert spec["resolve"]["scale"]["y"] == "independent"
    assert [p["layer"][0]["encoding"]["y"]["axis"]["format"] for p in spec["concat"]] == [",.1f", ",.0f"]
    assert json.dumps(spec).count("break-paths-filter-domains") >= 1


def test_large_district_spec_has_no_row_limit():
    values, refs = _values()
    many = pd.concat([values.assign(sozialraum_id=f"X{i:03d}", sozialraum=f"Gebiet {i}") for i in range(500)], ignore_index=True)
    f = charts.line_frame(many, refs, "q", "%")
    spec = charts.spec(charts.german(charts.line_chart(f, "Testquote", "%")))
    assert sum(len(d) for d in spec["datasets"].values()) >= 500 * 6
    # more areas than the legend can hold: grey lines without a colour legend
    lines = [lyr for lyr in spec["layer"] if lyr["mark"]["type"] == "line" and "strokeDash" not in lyr["encoding"]]
    assert lines[0]["encoding"]["color"] == {"value": "#8c8c8c"}
    # the spec must render (no reference to a selection that only exists with a legend)
    assert "hervorheben" not in json.dumps(spec)
    # rendered with the areas just past the legend's limit: the same spec shape (grey, no legend), a fiftieth of
    # the rows for the renderer (the 500 areas' spec is checked above; rendering it took a second)
    past = charts.MAX_LEGEND + 1
    few = many[many["sozialraum_id"].isin([f"X{i:03d}" for i in range(past)])]
    g = charts.line_frame(few, refs, "q", "%")
    assert g["reihe"].nunique() > past
    small = charts.german(charts.export_width(charts.line_chart(g, "Testquote", "%")))
    small_spec = charts.spec(small)
    assert [lyr["encoding"].get("color") for lyr in small_spec["layer"]] == [lyr["encoding"].get("color") for lyr in spec["layer"]]
    assert "<svg" in charts.to_svg(small)
