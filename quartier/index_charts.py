"""Charts and map properties for the Handlungsbedarf page (pure builders, no Streamlit).

Colours are colour-blind safe (Okabe-Ito blue/orange for "lowers"/"raises" the value, ColorBrewer OrRd
for the need classes); the meaning is always also carried by text (signed labels, class names).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from quartier import format as fmt
from quartier import index as hb
from quartier import maps

RAISES, LOWERS = "#D55E00", "#0072B2"
GERMAN_NUMBERS = {"number": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", "\u00a0€"]}}
NO_CLASS_COLOR = [225, 225, 225, 255]


def german(chart):
    return chart.configure(locale=GERMAN_NUMBERS)


def contributions_chart(frame: pd.DataFrame, title: str) -> alt.Chart:
    """Horizontal bars of one area's contributions (from :func:`quartier.index.contributions_frame`)."""
    df = frame[frame["Beitrag"].notna()].copy()
    df["Wirkung"] = np.where(df["Beitrag"] >= 0, "erhöht den Wert", "senkt den Wert")
    df["Beitrag_text"] = [("+" if v >= 0 else "−") + fmt.number(abs(v), 2) for v in df["Beitrag"]]
    base = alt.Chart(df, title=title).encode(
        y=alt.Y("Indikator:N", sort=alt.EncodingSortField("Beitrag", order="descending"), title=None),
        tooltip=[alt.Tooltip("Indikator:N"), alt.Tooltip("Beitrag_text:N", title="Beitrag"), alt.Tooltip("Wirkung:N")],
    )
    bars = base.mark_bar().encode(
        x=alt.X("Beitrag:Q", title="Beitrag zum Indexwert", axis=alt.Axis(format=",.2~f")),
        color=alt.Color("Wirkung:N", scale=alt.Scale(domain=["erhöht den Wert", "senkt den Wert"], range=[RAISES, LOWERS]),
                        legend=alt.Legend(title=None, orient="bottom")),
    )
    labels = (
        base.transform_filter(alt.datum.Beitrag >= 0).mark_text(align="left", dx=4, color="#111")
        .encode(x=alt.X("Beitrag:Q"), text="Beitrag_text:N")
        + base.transform_filter(alt.datum.Beitrag < 0).mark_text(align="right", dx=-4, color="#111")
        .encode(x=alt.X("Beitrag:Q"), text="Beitrag_text:N")
    )
    rule = base.mark_rule(color="#333").encode(x=alt.datum(0))
    return german((bars + labels + rule).properties(height=max(120, 32 * len(df)), width="container"))


def matrix_chart(counts: pd.DataFrame, classes: list[str], dyn_classes: list[str]) -> alt.Chart:
    """Heatmap status × dynamics with the count written in each cell (from ``status_dynamics_counts``)."""
    base = alt.Chart(counts, title="Status × Dynamik (Anzahl Sozialräume)").encode(
        x=alt.X("Dynamik:N", sort=list(dyn_classes), title="Dynamik", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("Status:N", sort=list(reversed(classes)), title="Status"),
        tooltip=[alt.Tooltip("Status:N"), alt.Tooltip("Dynamik:N"), alt.Tooltip("Anzahl:Q"), alt.Tooltip("Sozialräume:N")],
    )
    rect = base.mark_rect(stroke="#fff").encode(
        color=alt.Color("Anzahl:Q", scale=alt.Scale(scheme="orangered"), legend=alt.Legend(title="Anzahl")),
    )
    text = base.mark_text(fontSize=15, fontWeight="bold").encode(
        text="Anzahl:Q",
        color=alt.condition(alt.datum.Anzahl > counts["Anzahl"].max() / 2, alt.value("#fff"), alt.value("#111")),
    )
    return german((rect + text).properties(height=40 * len(classes) + 40))


def robustness_chart(table: pd.DataFrame) -> alt.Chart:
    """Rank ranges (leave one indicator out; weights ±50 %) with the rank as a point."""
    df = table[table["rank"].notna()].copy()
    rows = []
    for r in df.to_dict("records"):
        label = f"{r['name']} ({r['id']})"
        rows.append({"Sozialraum": label, "Rang": int(r["rank"]), "Analyse": "ohne je einen Indikator",
                     "von": int(r["rank_loo_min"]), "bis": int(r["rank_loo_max"])})
        rows.append({"Sozialraum": label, "Rang": int(r["rank"]), "Analyse": "Gewichte ±50 %",
                     "von": int(r["rank_weights_min"]), "bis": int(r["rank_weights_max"])})
    long = pd.DataFrame(rows)
    order = list(dict.fromkeys(long["Sozialraum"]))
    y = alt.Y("Sozialraum:N", sort=order, title=None)
    rules = alt.Chart(long).mark_rule(strokeWidth=4).encode(
        y=y, x=alt.X("von:Q", title="Rang (1 = höchster Handlungsbedarf)", scale=alt.Scale(reverse=False)), x2="bis:Q",
        color=alt.Color("Analyse:N", scale=alt.Scale(range=[LOWERS, RAISES]), legend=alt.Legend(title=None, orient="bottom")),
        yOffset=alt.YOffset("Analyse:N"),
        tooltip=[alt.Tooltip("Sozialraum:N"), alt.Tooltip("Analyse:N"), alt.Tooltip("Rang:Q"),
                 alt.Tooltip("von:Q", title="bester Rang"), alt.Tooltip("bis:Q", title="schlechtester Rang")],
    )
    points = alt.Chart(long.drop_duplicates("Sozialraum")).mark_point(shape="diamond", size=70, filled=True, color="#111").encode(
        y=y, x="Rang:Q", tooltip=[alt.Tooltip("Sozialraum:N"), alt.Tooltip("Rang:Q")],
    )
    return german((rules + points).properties(height=22 * len(order) + 30, title="Spannweite der Ränge"))


def class_colors(result: hb.IndexResult) -> list[list[int]]:
    return maps.class_colors(len(result.method["classes"]), "OrRd", "higher")


def map_properties(result: hb.IndexResult) -> tuple[dict[str, dict], list[dict]]:
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
            "klasse": m["classes"][k] if rated else "keine Klasse",
            "wert_text": fmt.number(result.value[i], 2) if rated else fmt.NOTHING,
            "rang": f"{int(result.rank[i])} von {n_rated}" if rated else fmt.NOTHING,
            "dynamik": m["dynamics_classes"][result.dyn_klass[i]] if result.dyn_klass[i] >= 0 else fmt.NOTHING,
            "hinweis": "; ".join(result.flags[i]),
            "fill": colors[k] if rated else NO_CLASS_COLOR,
            "label": f"{int(result.rank[i])}. {name}" if rated and result.rank[i] <= 10 else name,
        }
    legend = []
    for k in range(len(m["classes"]) - 1, -1, -1):
        legend.append({"kind": "class", "label": f"{m['classes'][k]} ({_range(m['cutoffs'], k)})", "color": colors[k],
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


def map_text(result: hb.IndexResult) -> str:
    """Text alternative of the class map: the areas of each class, most need first."""
    m = result.method
    parts = []
    for k in range(len(m["classes"]) - 1, -1, -1):
        sel = result.klass == k
        names = ", ".join(result.areas["name"][sel]) or "keine"
        parts.append(f"**{m['classes'][k]}** ({int(sel.sum())}): {names}")
    none = result.klass < 0
    if none.any():
        parts.append(f"**keine Klasse** ({int(none.sum())}): " + ", ".join(result.areas["name"][none]))
    return "  \n".join(parts)
