"""Charts and map properties for the Handlungsbedarf page (pure builders, no Streamlit).

Colours are colour-blind safe (Okabe-Ito blue/orange for "lowers"/"raises" the value, ColorBrewer OrRd
for the need classes); the meaning is always also carried by text (signed labels, class names).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quartier import format as fmt
from quartier.areas import classes
from quartier.need.compute import IndexResult

RAISES, LOWERS = "#D55E00", "#0072B2"
GERMAN_NUMBERS = {"number": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", "\u00a0€"]}}
NO_CLASS_COLOR = [225, 225, 225, 255]


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and np.isnan(v) else (v.item() if hasattr(v, "item") else v))
             for k, v in r.items()} for r in df.to_dict("records")]


def _spec(title: str, data: pd.DataFrame, **body) -> dict:
    """A Vega-Lite spec as a plain dict (no Altair objects: building and validating those costs
    ~100 ms per chart and run; the page budget is 300 ms) with the German number locale."""
    return {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "title": title,
            "data": {"values": _records(data)}, "config": {"locale": GERMAN_NUMBERS}, **body}


def contributions_chart(frame: pd.DataFrame, title: str) -> dict:
    """Horizontal bars of one area's contributions (from :func:`quartier.index.contributions_frame`),
    each bar labelled with its signed value; colour and label both say raise/lower."""
    df = frame[frame["Beitrag"].notna()].copy()
    df["Wirkung"] = np.where(df["Beitrag"] >= 0, "erhöht den Wert", "senkt den Wert")
    df["Beitrag_text"] = [("+" if v >= 0 else "−") + fmt.number(abs(v), 2) for v in df["Beitrag"]]
    df = df[["Indikator", "Beitrag", "Wirkung", "Beitrag_text"]]
    y = {"field": "Indikator", "type": "nominal", "title": None, "sort": {"field": "Beitrag", "order": "descending"},
         "axis": {"labelLimit": 260}}
    lo, hi = min(0.0, float(df["Beitrag"].min()) * 1.3), max(0.0, float(df["Beitrag"].max()) * 1.3)
    x = {"field": "Beitrag", "type": "quantitative", "title": "Beitrag zum Indexwert", "axis": {"format": ",.2~f"},
         "scale": {"domain": [lo, hi] if hi > lo else [-1, 1]}}
    tooltip = [{"field": "Indikator"}, {"field": "Beitrag_text", "title": "Beitrag"}, {"field": "Wirkung"}]
    return _spec(title, df, height=max(120, 32 * len(df)), layer=[
        {"mark": "bar", "encoding": {"y": y, "x": x, "tooltip": tooltip, "color": {
            "field": "Wirkung", "type": "nominal", "legend": {"title": None, "orient": "bottom"},
            "scale": {"domain": ["erhöht den Wert", "senkt den Wert"], "range": [RAISES, LOWERS]}}}},
        {"transform": [{"filter": "datum.Beitrag >= 0"}], "mark": {"type": "text", "align": "left", "dx": 4, "color": "#111"},
         "encoding": {"y": y, "x": x, "text": {"field": "Beitrag_text"}}},
        {"transform": [{"filter": "datum.Beitrag < 0"}], "mark": {"type": "text", "align": "right", "dx": -4, "color": "#111"},
         "encoding": {"y": y, "x": x, "text": {"field": "Beitrag_text"}}},
        {"mark": {"type": "rule", "color": "#333"}, "encoding": {"x": {"datum": 0, "type": "quantitative"}}},
    ])


def matrix_chart(counts: pd.DataFrame, classes: list[str], dyn_classes: list[str]) -> dict:
    """Heatmap status × dynamics with the count written in each cell (from ``status_dynamics_counts``)."""
    enc = {
        "x": {"field": "Dynamik", "type": "nominal", "sort": list(dyn_classes), "title": "Dynamik", "axis": {"labelAngle": 0}},
        "y": {"field": "Status", "type": "nominal", "sort": list(reversed(classes)), "title": "Status"},
        "tooltip": [{"field": "Status"}, {"field": "Dynamik"}, {"field": "Anzahl", "type": "quantitative"},
                    {"field": "Sozialräume"}],
    }
    half = float(counts["Anzahl"].max()) / 2 if len(counts) else 0
    return _spec("Status × Dynamik (Anzahl Sozialräume)", counts, height=40 * len(classes) + 40, encoding=enc, layer=[
        {"mark": {"type": "rect", "stroke": "#fff"},
         "encoding": {"color": {"field": "Anzahl", "type": "quantitative", "scale": {"scheme": "orangered"},
                                "legend": {"title": "Anzahl"}}}},
        {"mark": {"type": "text", "fontSize": 15, "fontWeight": "bold"},
         "encoding": {"text": {"field": "Anzahl", "type": "quantitative"},
                      "color": {"condition": {"test": f"datum.Anzahl > {half}", "value": "#fff"}, "value": "#111"}}},
    ])


def robustness_chart(table: pd.DataFrame) -> dict:
    """Rank ranges (leave one indicator out; weights ±50 %) with the rank as a point."""
    df = table[table["rank"].notna()]
    rows = []
    for r in df.to_dict("records"):
        label = f"{r['name']} ({r['id']})"
        rows.append({"Sozialraum": label, "Rang": int(r["rank"]), "Analyse": "ohne je einen Indikator",
                     "von": int(r["rank_loo_min"]), "bis": int(r["rank_loo_max"])})
        rows.append({"Sozialraum": label, "Rang": int(r["rank"]), "Analyse": "Gewichte ±50 %",
                     "von": int(r["rank_weights_min"]), "bis": int(r["rank_weights_max"])})
    long = pd.DataFrame(rows, columns=["Sozialraum", "Rang", "Analyse", "von", "bis"])
    order = list(dict.fromkeys(long["Sozialraum"]))
    y = {"field": "Sozialraum", "type": "nominal", "sort": order, "title": None, "axis": {"labelLimit": 320}}
    return _spec("Spannweite der Ränge", long, height={"step": 11}, layer=[
        {"mark": {"type": "rule", "strokeWidth": 4}, "encoding": {
            "y": y, "yOffset": {"field": "Analyse", "type": "nominal"},
            "x": {"field": "von", "type": "quantitative", "title": "Rang (1 = höchster Handlungsbedarf)"},
            "x2": {"field": "bis"},
            "color": {"field": "Analyse", "type": "nominal", "scale": {"range": [LOWERS, RAISES]},
                      "legend": {"title": None, "orient": "bottom"}},
            "tooltip": [{"field": "Sozialraum"}, {"field": "Analyse"}, {"field": "Rang", "type": "quantitative"},
                        {"field": "von", "title": "bester Rang"}, {"field": "bis", "title": "schlechtester Rang"}]}},
        {"transform": [{"filter": "datum.Analyse == 'ohne je einen Indikator'"}],
         "mark": {"type": "point", "shape": "diamond", "size": 70, "filled": True, "color": "#111"},
         "encoding": {"y": y, "x": {"field": "Rang", "type": "quantitative"},
                      "tooltip": [{"field": "Sozialraum"}, {"field": "Rang", "type": "quantitative"}]}},
    ])


def class_colors(result: IndexResult) -> list[list[int]]:
    return classes.class_colors(len(result.method.classes), "OrRd", "higher")


def map_properties(result: IndexResult) -> tuple[dict[str, dict], list[dict]]:
    """(feature properties per area for :func:`quartier.maps.build_deck`, legend entries)."""
    m = result.method
    colors = class_colors(result)
    n_rated = int((result.klass >= 0).sum())
    props = {}
    for i, sid in enumerate(result.areas["id"]):
        k = int(result.klass[i])
        name = result.areas["name"].iat[i]
        rated = k >= 0
        props[sid] = {
            "id": sid, "name": name,
            "klasse": m.classes[k] if rated else "keine Klasse",
            "wert_text": fmt.number(result.value[i], 2) if rated else fmt.NOTHING,
            "rang": f"{int(result.rank[i])} von {n_rated}" if rated else fmt.NOTHING,
            "dynamik": m.dynamics_classes[result.dyn_klass[i]] if result.dyn_klass[i] >= 0 else fmt.NOTHING,
            "hinweis": "; ".join(result.flags[i]),
            "fill": colors[k] if rated else NO_CLASS_COLOR,
            "label": f"{int(result.rank[i])}. {name}" if rated and result.rank[i] <= 10 else name,
        }
        if rated and result.rank[i] <= 10:  # the first ten keep their label before larger areas (declutter)
            props[sid]["label_prio"] = 1e6 - float(result.rank[i])
    legend = []
    for k in range(len(m.classes) - 1, -1, -1):
        legend.append({"kind": "class", "label": f"{m.classes[k]} ({_range(m.cutoffs, k)})", "color": colors[k],
                       "count": int((result.klass == k).sum())})
    legend.append({"kind": "missing", "label": "keine Klasse (zu klein oder nicht bewertbar)", "color": NO_CLASS_COLOR,
                   "count": int((result.klass < 0).sum())})
    return props, legend


TOOLTIP = ("<b>{name}</b><br/>Klasse: <b>{klasse}</b><br/>Indexwert: {wert_text}<br/>Rang: {rang}<br/>"
           "Dynamik: {dynamik}<br/>{hinweis}")


def _range(cut: list[float], k: int) -> str:
    if k == 0:
        return f"unter {fmt.number(cut[0], 1)}"
    if k == len(cut):
        return f"über {fmt.number(cut[-1], 1)}"
    return f"{fmt.number(cut[k - 1], 1)} bis {fmt.number(cut[k], 1)}"


def map_text(result: IndexResult) -> str:
    """Text alternative of the class map: the areas of each class, most need first."""
    m = result.method
    parts = []
    for k in range(len(m.classes) - 1, -1, -1):
        sel = result.klass == k
        names = ", ".join(result.areas["name"][sel]) or "keine"
        parts.append(f"**{m.classes[k]}** ({int(sel.sum())}): {names}")
    none = result.klass < 0
    if none.any():
        parts.append(f"**keine Klasse** ({int(none.sum())}): " + ", ".join(result.areas["name"][none]))
    return "  \n".join(parts)
