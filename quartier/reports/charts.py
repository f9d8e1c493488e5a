"""Line charts of a report (Altair; the page shows the spec, the PDF a PNG rendered by vl-convert)."""

from __future__ import annotations

import pandas as pd

from quartier import format as fmt


def chart_spec(dev: pd.DataFrame, indicator_id: str, title: str, unit: str | None, width: int = 380, height: int = 210,
               legend_orient: str = "bottom", decimals: int | None = None):
    """Altair line chart of one indicator over the years (scope bold, city dashed, areas thin); axis and
    tooltip with the indicator's decimals (:func:`quartier.format.decimals_for`); incomplete years are left out."""
    import altair as alt

    keep = dev["wert"].notna()
    if "unvollstaendig" in dev.columns:
        keep &= ~dev["unvollstaendig"].astype(bool)
    d = dev[(dev["indikator_id"] == indicator_id) & keep].copy()
    d["wert"] = d["wert"].astype(float)
    d["betont"] = d["art"].map({"Sozialraum": 1, "Stadtbezirk": 3, "Gesamtstadt": 3}).fillna(1)
    order = list(dict.fromkeys(d.sort_values("art", key=lambda s: s.map({"Gesamtstadt": 0, "Stadtbezirk": 1, "Sozialraum": 2}))["gebiet"]))
    palette = ["#000000", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]
    # the focus series first (black/blue), the city dashed grey
    focus = [g for g in order if g != "Gesamtstadt"]
    domain = focus + ["Gesamtstadt"]
    rng = palette[1:len(focus) + 1] + ["#555555"]
    if len(rng) < len(domain):
        rng = (rng + palette * 3)[: len(domain)]
    ytitle = unit or ""
    base = alt.Chart(d).encode(
        x=alt.X("jahr:O", title="Jahr", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("wert:Q", title=ytitle, axis=alt.Axis(format=fmt.d3_format(fmt.decimals_for(unit) if decimals is None else decimals))),
        color=alt.Color("gebiet:N", title=None, scale=alt.Scale(domain=domain, range=rng),
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=260) if legend_orient == "bottom"
                        else alt.Legend(orient=legend_orient, labelLimit=320)),
        strokeDash=alt.condition(alt.datum.gebiet == "Gesamtstadt", alt.value([6, 4]), alt.value([1, 0])),
        strokeWidth=alt.StrokeWidth("betont:Q", legend=None, scale=alt.Scale(domain=[1, 3], range=[1.2, 3.5])),
        tooltip=[alt.Tooltip("gebiet:N", title="Gebiet"), alt.Tooltip("jahr:O", title="Jahr")]
        + ([alt.Tooltip("wert_text:N", title="Wert")] if "wert_text" in d.columns else []),
    )
    chart = (base.mark_line() + base.mark_point(filled=True, size=25)).properties(
        title=title, width=width, height=height)
    return chart


def chart_png(chart, scale: float = 2.0) -> bytes:
    """The chart as PNG (German number format); the same chart again comes from :mod:`quartier.reports.render`'s memory.

    The spec is not validated against the Vega-Lite schema again (a third of the time of a report's charts):
    :func:`chart_spec` builds it from Altair's typed classes, and vl-convert rejects an invalid spec anyway."""
    from quartier.reports.render import vegalite_png

    return vegalite_png(chart.to_dict(validate=False), scale=scale)
