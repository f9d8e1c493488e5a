"""Altair charts for the Handlungsempfehlungen (pure builders: DataFrame -> alt.Chart; no Streamlit)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from quartier import format as fmt
from quartier.actions import model

_TEXT_ON = {s.name: ("#FFFFFF" if s.colour in ("#0072B2", "#00563B") else "#000000") for s in model.STATUSES}


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Plain object/number columns: pandas' string and categorical dtypes do not survive every chart transport."""
    out = df.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]) or isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


def status_scale() -> alt.Scale:
    return alt.Scale(domain=list(model.STATUS_NAMES), range=[s.colour for s in model.STATUSES])


def status_bars(long: pd.DataFrame, by: str, label: str) -> alt.Chart:
    """Stacked horizontal bars: counts per status for each group; counts written into the segments."""
    d = long.copy()
    d["status"] = d["status"].astype(str)
    d["reihenfolge"] = d["status"].map({n: i for i, n in enumerate(model.STATUS_NAMES)})
    d["symbol"] = d["status"].map(lambda s: model.STATUS_BY_NAME[s].symbol)
    d["textfarbe"] = d["status"].map(_TEXT_ON)
    d = d[d["anzahl"] > 0].sort_values([by, "reihenfolge"])
    d["x_mitte"] = d.groupby(by)["anzahl"].cumsum() - d["anzahl"] / 2
    groups = list(dict.fromkeys(d[by]))
    d = _plain(d)
    y = alt.Y(f"{by}:N", title=label, sort=groups, axis=alt.Axis(labelLimit=260))
    bars = alt.Chart(d).mark_bar(stroke="#FFFFFF", strokeWidth=1).encode(
        y=y,
        x=alt.X("anzahl:Q", title="Anzahl Empfehlungen", stack="zero", axis=alt.Axis(tickMinStep=1, format="d")),
        order=alt.Order("reihenfolge:Q"),
        color=alt.Color("status:N", scale=status_scale(), title="Status", sort=list(model.STATUS_NAMES),
                        legend=alt.Legend(orient="bottom", columns=4)),
        tooltip=[alt.Tooltip(f"{by}:N", title=label), alt.Tooltip("status:N", title="Status"),
                 alt.Tooltip("anzahl:Q", title="Anzahl")],
    )
    text = alt.Chart(d).mark_text(align="center", baseline="middle", fontSize=12, fontWeight="bold").encode(
        y=y, x=alt.X("x_mitte:Q"), text=alt.Text("anzahl:Q"), color=alt.Color("textfarbe:N", scale=None),
    )
    return (bars + text).properties(height=max(120, 34 * len(groups)))


def indicator_lines(series: pd.DataFrame, name: str, unit: str | None, start_year: int | None = None,
                    decimals: int | None = None) -> alt.Chart:
    """Lines per group (Sozialräume or pooled groups) over the years, dashed/marked differently, start year as a rule;
    axis and tooltip with the indicator's ``decimals`` (catalogue ``dezimalstellen``; None = by unit)."""
    dec = fmt.decimals_for(unit) if decimals is None else int(decimals)
    d = series.dropna(subset=["wert"]).copy()
    d["wert_text"] = [fmt.value(v, unit, dec) for v in d["wert"]]
    groups = list(dict.fromkeys(d["gruppe"]))
    d = _plain(d)
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"]
    dashes = [[1, 0], [6, 3], [2, 2], [8, 2, 2, 2], [4, 4], [1, 3], [10, 4]]
    scale_c = alt.Scale(domain=groups, range=palette[: len(groups)] or palette)
    scale_d = alt.Scale(domain=groups, range=dashes[: len(groups)] or dashes)
    base = alt.Chart(d).encode(
        x=alt.X("jahr:O", title="Jahr"),
        y=alt.Y("wert:Q", title=f"{name} ({unit})" if unit else name, scale=alt.Scale(zero=False),
                axis=alt.Axis(format=fmt.d3_format(dec))),
        color=alt.Color("gruppe:N", scale=scale_c, title=None, legend=alt.Legend(orient="bottom")),
        strokeDash=alt.StrokeDash("gruppe:N", scale=scale_d, legend=None),
        tooltip=[alt.Tooltip("gruppe:N", title="Gebiet"), alt.Tooltip("jahr:O", title="Jahr"),
                 alt.Tooltip("wert_text:N", title="Wert")],
    )
    chart = base.mark_line(strokeWidth=2) + base.mark_point(filled=True, size=45).encode(
        shape=alt.Shape("gruppe:N", legend=None))
    if start_year is not None:
        rule = alt.Chart(pd.DataFrame({"jahr": [start_year], "t": [f"Start {start_year}"]})).encode(x="jahr:O")
        chart = chart + rule.mark_rule(color="#555555", strokeDash=[3, 3]) + rule.mark_text(
            align="left", dx=4, dy=-6, color="#333333", baseline="top").encode(text="t:N", y=alt.value(0))
    return chart.properties(height=240)
