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


BAR_STEP = 34   # px per indicator bar: every label stays readable


def contributions_height(n_bars: int) -> int:
    """Height of the plot area of :func:`contributions_chart` (one labelled bar per indicator)."""
    return BAR_STEP * max(1, n_bars)


def contributions_chart(frame: pd.DataFrame, title: str) -> dict:
    """Horizontal bars of one area's contributions (from :func:`quartier.index.contributions_frame`):
    one bar per indicator, each with its name on the axis (no label hidden) and its signed value at the
    bar; a few ticks on the value axis. Colour and label both say raise/lower. The plot height follows the
    number of indicators (``autosize: fit-x``: Streamlit fits only the width)."""
    df = frame[frame["Beitrag"].notna()].copy()
    df["Wirkung"] = np.where(df["Beitrag"] >= 0, "erhöht den Wert", "senkt den Wert")
    df["Beitrag_text"] = [("+" if v >= 0 else "−") + fmt.number(abs(v), 2) for v in df["Beitrag"]]
    df = df[["Indikator", "Beitrag", "Wirkung", "Beitrag_text"]]
    # an explicit order: a sort by field is dropped by Vega-Lite when layers filter the data differently
    y = {"field": "Indikator", "type": "nominal", "title": None,
         "sort": list(df.sort_values("Beitrag", ascending=False, kind="stable")["Indikator"]),
         "axis": {"labelLimit": 320, "labelOverlap": False, "labelFontSize": 13, "ticks": False, "labelPadding": 6}}
    lo, hi = min(0.0, float(df["Beitrag"].min()) * 1.3), max(0.0, float(df["Beitrag"].max()) * 1.3)
    x = {"field": "Beitrag", "type": "quantitative", "title": "Beitrag zum Indexwert",
         "axis": {"format": ",.1~f", "tickCount": 5, "labelFontSize": 12},
         "scale": {"domain": [lo, hi] if hi > lo else [-1, 1], "nice": True}}
    tooltip = [{"field": "Indikator"}, {"field": "Beitrag_text", "title": "Beitrag"}, {"field": "Wirkung"}]
    return _spec(title, df, height=contributions_height(len(df)), autosize={"type": "fit-x", "contains": "padding"},
                 layer=[
        {"mark": {"type": "bar", "height": {"band": 0.7}}, "encoding": {"y": y, "x": x, "tooltip": tooltip, "color": {
            "field": "Wirkung", "type": "nominal", "legend": {"title": None, "orient": "bottom"},
            "scale": {"domain": ["erhöht den Wert", "senkt den Wert"], "range": [RAISES, LOWERS]}}}},
        {"transform": [{"filter": "datum.Beitrag >= 0"}], "mark": {"type": "text", "align": "left", "dx": 4, "color": "#111"},
         "encoding": {"y": y, "x": x, "text": {"field": "Beitrag_text"}}},
        {"transform": [{"filter": "datum.Beitrag < 0"}], "mark": {"type": "text", "align": "right", "dx": -4, "color": "#111"},
         "encoding": {"y": y, "x": x, "text": {"field": "Beitrag_text"}}},
        {"mark": {"type": "rule", "color": "#333"}, "encoding": {"x": {"datum": 0, "type": "quantitative"}}},
    ])


ATTENTION_COLORS = {"dringend": "#B63A00", "beobachten": "#F5B27A", "ohne Hinweis": "#EEEEEE"}


def matrix_chart(counts: pd.DataFrame, classes: list[str], dyn_classes: list[str]) -> dict:
    """Status × dynamics in the order of the table (:func:`quartier.need.explain.status_dynamics_matrix`: most
    need on top, worsening on the left); the colour marks the cells that need attention (``Aufmerksamkeit``,
    its legend says so in words), the count is written in each cell; empty cells are faded."""
    enc = {
        "x": {"field": "Dynamik", "type": "nominal", "sort": list(reversed(dyn_classes)), "title": "Dynamik",
              "axis": {"labelAngle": 0, "orient": "top", "labelFontSize": 13}},
        "y": {"field": "Status", "type": "nominal", "sort": list(reversed(classes)), "title": "Status",
              "axis": {"labelFontSize": 13}},
        "tooltip": [{"field": "Status"}, {"field": "Dynamik"}, {"field": "Anzahl", "type": "quantitative"},
                    {"field": "Aufmerksamkeit"}, {"field": "Sozialräume"}],
    }
    levels = list(ATTENTION_COLORS)
    return _spec("Status × Dynamik (Anzahl Sozialräume)", counts, height=44 * len(classes),
                 autosize={"type": "fit-x", "contains": "padding"}, encoding=enc, layer=[
        {"mark": {"type": "rect", "stroke": "#fff", "strokeWidth": 2},
         "encoding": {"color": {"field": "Aufmerksamkeit", "type": "nominal",
                                "scale": {"domain": levels, "range": [ATTENTION_COLORS[k] for k in levels]},
                                "legend": {"title": "Aufmerksamkeit", "orient": "bottom"}},
                      "opacity": {"condition": {"test": "datum.Anzahl > 0", "value": 1}, "value": 0.35}}},
        {"mark": {"type": "text", "fontSize": 15, "fontWeight": "bold"},
         "encoding": {"text": {"field": "Anzahl", "type": "quantitative"},
                      "color": {"condition": {"test": "datum.Aufmerksamkeit == 'dringend' && datum.Anzahl > 0", "value": "#fff"},
                                "value": "#111"}}},
    ])


def matrix_table_styles(table: pd.DataFrame, classes: list[str], dyn_classes: list[str]) -> pd.DataFrame:
    """CSS per cell of :func:`quartier.need.explain.status_dynamics_matrix` (same shape): the cells that need
    attention in the colours of :func:`matrix_chart` (only cells with areas: "0" needs nothing); the status and
    other columns unstyled."""
    from quartier.need.explain import CALM, attention

    css = pd.DataFrame("", index=table.index, columns=table.columns)
    for row, status in zip(table.index, table["Status"]):
        si = list(classes).index(status)
        for di, dname in enumerate(dyn_classes):
            level = attention(si, di, len(classes), len(dyn_classes))
            if dname in css.columns and level != CALM and not str(table.loc[row, dname]).startswith("0"):
                fg = "#ffffff" if level == "dringend" else "#111111"
                css.loc[row, dname] = f"background-color: {ATTENTION_COLORS[level]}; color: {fg}; font-weight: 600"
    return css


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
