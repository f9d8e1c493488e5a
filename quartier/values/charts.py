"""Pure chart builders: DataFrame -> ``alt.Chart`` (no Streamlit).

German number formats come from the Vega-Lite ``locale`` config (decimal comma, thousands dot), tooltips
carry text already formatted by :mod:`quartier.format`. Colours are colour-blind safe (Okabe-Ito);
reference lines differ by dash pattern and are named in their own legend, suppressed years are gaps
with a visible "•" mark, never zero and never interpolated.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from quartier import format as fmt
from quartier.values import coverage

# Okabe-Ito without yellow (too little contrast on white).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"]
SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "wedge"]
REF_COLOUR = "#3d3d3d"
DASHES = [[6, 3], [2, 2], [10, 3, 2, 3], [1, 3], [12, 4]]
GOOD_COLOUR, BAD_COLOUR, NEUTRAL_COLOUR = "#0072B2", "#D55E00", "#6b6b6b"
GERMAN_LOCALE = {
    "number": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", "\u00a0€"]},
    "time": {
        "dateTime": "%A, der %e. %B %Y, %X", "date": "%d.%m.%Y", "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"],
        "shortDays": ["So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"],
        "months": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
                   "Oktober", "November", "Dezember"],
        "shortMonths": ["Jan", "Feb", "Mrz", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"],
    },
}
INCOMPLETE = "unvollständig"  # status of a reference over an incomplete delivery (series.STATUS_INCOMPLETE)
STATUS_MARK = {"gesperrt": fmt.SUPPRESSED, "fehlt": fmt.NOTHING, INCOMPLETE: "○"}
STATUS_TEXT = {"gesperrt": "gesperrt (Schutz kleiner Fallzahlen)", "fehlt": "kein Wert geliefert",
               INCOMPLETE: "unvollständig geliefert"}
UMR_MARK = "*"  # after a value re-allocated from an earlier Gebietsstand; the method is in "Umrechnung"
MAX_LEGEND = 12  # more Sozialräume than this: no colour legend, grey lines with tooltips
LINE_HEIGHT = 280


def german(chart):
    """Apply the German number/time locale (axes, legends, text formats) and readable font sizes
    (projector in a council meeting) to a chart."""
    # one configure() call: every configure_* call copies the whole chart including its data.
    # Marks are hidden from screen readers (aria false): the chart has an alt text and a table beside it;
    # thousands of unlabelled mark items would only be noise (and fail axe "svg-img-alt").
    return chart.configure(
        locale=GERMAN_LOCALE, mark={"aria": False}, axis={"labelFontSize": 13, "titleFontSize": 14},
        legend={"labelFontSize": 13, "titleFontSize": 13}, title={"fontSize": 16}, header={"labelFontSize": 13},
    )


def unit_title(name: str, unit: str | None) -> str:
    u = (unit or "").strip()
    if not u:
        return name
    return f"{name} (in {u})" if u in ("%", "‰") else f"{name} ({u})"


def axis_format(unit: str | None, decimals: int | None = None) -> str:
    """The axis number format: the indicator's decimals (catalogue ``dezimalstellen``) where given."""
    if decimals is not None:
        return fmt.d3_format(decimals)
    return ",.0f" if (unit or "").strip().lower() == "anzahl" else ",.1~f"


def _col(df: pd.DataFrame, name: str):
    return df[name].to_numpy() if name in df.columns else np.full(len(df), np.nan)


def _ints(v) -> str:
    return fmt.integer(v) if v is not None and not (isinstance(v, float) and np.isnan(v)) else fmt.NOTHING


# --------------------------------------------------------------------------------------------
# time series


def line_frame(values: pd.DataFrame, refs: pd.DataFrame, indicator_id: str, unit: str | None,
               city: str = "Stadt", bezirke: list[str] | None = None, decimals: int | None = None) -> pd.DataFrame:
    """The data of one line chart (also its table and download): one row per series and year.

    ``values`` are the Sozialraum rows of :func:`quartier.series.load_series`, ``refs`` its references;
    the district references shown are those of ``bezirke`` (default: the districts of the areas shown).
    """
    v = values[values["indikator_id"] == indicator_id]
    r = refs[refs["indikator_id"] == indicator_id]
    return series_rows(v, r, {indicator_id: unit}, city=city, bezirke=bezirke,
                       decimals=None if decimals is None else {indicator_id: decimals})


def series_rows(v: pd.DataFrame, r: pd.DataFrame, units: dict, city: str = "Stadt",
                bezirke: list[str] | None = None, decimals: dict | None = None) -> pd.DataFrame:
    """Rows of line charts for one or more indicators (``indikator_id`` kept), formatted in German
    (``decimals``: indicator id -> its decimals, :func:`quartier.values.indicators.decimals`)."""
    n = len(v)
    rows = pd.DataFrame({
        "indikator_id": v["indikator_id"].to_numpy(),
        "reihe": (v["sozialraum"].astype(str) + " (" + v["sozialraum_id"].astype(str) + ")").to_numpy(),
        "art": np.full(n, "Sozialraum", dtype=object), "jahr": v["jahr"].astype(int).to_numpy(),
        "wert": v["wert"].astype(float).to_numpy(), "zaehler": v["zaehler"].astype(float).to_numpy(),
        "nenner": v["nenner"].astype(float).to_numpy(), "status": v["status"].to_numpy(),
        "lieferung": (v["lieferung"].fillna("").to_numpy() if "lieferung" in v else np.full(n, "", dtype=object)),
        "rang": (v["rang"].astype(float).to_numpy() if "rang" in v else np.full(n, np.nan)),
        "n_rang": (v["n_rang"].astype(float).to_numpy() if "n_rang" in v else np.full(n, np.nan)),
        "umgerechnet": (v["umgerechnet"].fillna("").astype(str).to_numpy() if "umgerechnet" in v
                        else np.full(n, "", dtype=object)),
    })
    wanted = set(bezirke) if bezirke is not None else set(v["bezirk_id"].dropna())
    r = r[(r["ebene"] == "Stadt") | ((r["ebene"] == "Stadtbezirk") & r["bezirk_id"].isin(wanted))]
    if len(r):
        ref_rows = pd.DataFrame({
            "indikator_id": r["indikator_id"].to_numpy(),
            "reihe": np.where(r["ebene"] == "Stadt", f"{city} (Stadt)", "Bezirk " + r["name"].fillna("").astype(str)),
            "art": r["ebene"].to_numpy(), "jahr": r["jahr"].astype(int).to_numpy(), "wert": r["wert"].astype(float).to_numpy(),
            "zaehler": r["zaehler"].astype(float).to_numpy(), "nenner": r["nenner"].astype(float).to_numpy(),
            "status": r["status"].to_numpy(), "lieferung": "Summe der Sozialräume", "rang": np.nan, "n_rang": np.nan,
            "umgerechnet": "",
            "abdeckung": [coverage.short(d, t) if pd.notna(t) else "" for d, t in
                          zip(_col(r, "gebiete_geliefert"), _col(r, "gebiete_gesamt"))],
        })
        rows = pd.concat([rows, ref_rows], ignore_index=True) if n else ref_rows
    unit_of = [units.get(i) for i in rows["indikator_id"]]
    dec_of = [(decimals or {}).get(i) for i in rows["indikator_id"]]
    sup = (rows["status"] == "gesperrt").to_numpy()
    rows["wert_text"] = [fmt.value(w, u, d, suppressed=bool(g)) for w, u, d, g in zip(rows["wert"], unit_of, dec_of, sup)]
    rows["zaehler_text"] = [fmt.SUPPRESSED if g else _ints(z) for z, g in zip(rows["zaehler"], sup)]
    rows["nenner_text"] = [_ints(x) for x in rows["nenner"]]
    rows["rang_text"] = [f"{int(a)} von {int(b)}" if a == a and b == b else fmt.NOTHING
                         for a, b in zip(rows["rang"], rows["n_rang"])]
    rows["status_text"] = rows["status"].map(STATUS_TEXT).fillna("Wert")
    cov = rows["abdeckung"].fillna("") if "abdeckung" in rows else pd.Series("", index=rows.index)
    inc = (rows["status"] == INCOMPLETE).to_numpy()
    if inc.any():  # an incomplete year: no value, a hollow mark and "5/23" in the tooltip
        rows.loc[inc, "status_text"] = "unvollständig: " + cov[inc] + " Sozialräume geliefert"
        rows.loc[inc, "wert_text"] = "unvollständig (" + cov[inc] + ")"
    rows["marke"] = rows["status"].map(STATUS_MARK).fillna("")
    rows["umgerechnet"] = rows["umgerechnet"].fillna("")
    rows.loc[rows["umgerechnet"] != "", "wert_text"] += " " + UMR_MARK  # re-allocated (Issue 19): visible mark
    # references get their own field so that the dash legend is not merged into the colour legend
    rows["vergleich"] = np.where(rows["art"] != "Sozialraum", rows["reihe"], None)
    return rows.sort_values(["indikator_id", "art", "reihe", "jahr"]).reset_index(drop=True)


def line_chart(frame: pd.DataFrame, title: str, unit: str | None, height: int = LINE_HEIGHT,
               decimals: int | None = None) -> alt.LayerChart:
    """Lines per Sozialraum plus dashed city/district references; gaps for suppressed/missing years with
    a "•"/"–" mark at the bottom; a click on the legend highlights a Sozialraum."""
    tooltip = [
        alt.Tooltip("reihe:N", title="Reihe"), alt.Tooltip("jahr:Q", title="Jahr", format="d"),
        alt.Tooltip("wert_text:N", title="Wert"), alt.Tooltip("zaehler_text:N", title="Zähler"),
        alt.Tooltip("nenner_text:N", title="Nenner"), alt.Tooltip("rang_text:N", title="Rang"),
        alt.Tooltip("lieferung:N", title="Lieferung"), alt.Tooltip("umgerechnet:N", title="Umrechnung"),
    ]
    x = alt.X("jahr:Q", title="Jahr", axis=alt.Axis(format="d", tickMinStep=1, labelOverlap=True),
              scale=alt.Scale(zero=False, nice=False))
    y = alt.Y("wert:Q", title=unit_title(title, unit), axis=alt.Axis(format=axis_format(unit, decimals)),
              scale=alt.Scale(zero=False))
    base = alt.Chart(frame)
    areas = frame[frame["art"] == "Sozialraum"]
    names = list(dict.fromkeys(areas["reihe"]))
    many = len(names) > MAX_LEGEND
    highlight = alt.selection_point(name="hervorheben", fields=["reihe"], bind="legend")
    colour = (alt.value("#8c8c8c") if many else
              alt.Color("reihe:N", title="Sozialraum", scale=alt.Scale(domain=names, range=PALETTE),
                        legend=alt.Legend(orient="bottom", columns=2, symbolType="stroke", labelLimit=260)))
    shape = (alt.value("circle") if many else
             alt.Shape("reihe:N", title="Sozialraum", scale=alt.Scale(domain=names, range=SHAPES)))
    # the highlight selection exists only with a legend; many grey lines are drawn half transparent
    opacity = alt.value(0.45) if many else alt.condition(highlight, alt.value(1.0), alt.value(0.15))
    sr = base.transform_filter(alt.datum.art == "Sozialraum")
    lines = sr.mark_line(invalid="break-paths-filter-domains", strokeWidth=2.5).encode(
        x=x, y=y, color=colour, opacity=opacity, detail="reihe:N", tooltip=tooltip)
    points = sr.mark_point(filled=True, size=55, invalid="break-paths-filter-domains").encode(
        x=x, y=y, color=colour, shape=shape, opacity=opacity, detail="reihe:N", tooltip=tooltip)
    if not many:
        lines = lines.add_params(highlight)
    layers = [lines, points]
    refs = frame[frame["art"] != "Sozialraum"]
    if len(refs):
        ref_names = list(dict.fromkeys(refs.sort_values("art", ascending=False)["reihe"]))
        dash = alt.StrokeDash("vergleich:N", title="Vergleichswert", scale=alt.Scale(domain=ref_names, range=DASHES[: len(ref_names)]),
                              legend=alt.Legend(orient="bottom", symbolStrokeColor=REF_COLOUR, symbolType="stroke",
                                                labelLimit=260))
        rb = base.transform_filter(alt.datum.art != "Sozialraum")
        layers.append(rb.mark_line(color=REF_COLOUR, strokeWidth=2, invalid="break-paths-filter-domains").encode(
            x=x, y=y, strokeDash=dash, tooltip=tooltip))
        layers.append(rb.mark_point(color=REF_COLOUR, size=25, filled=True, invalid="break-paths-filter-domains").encode(
            x=x, y=y, detail="vergleich:N", tooltip=tooltip))
    gap_tip = [alt.Tooltip("reihe:N", title="Reihe"), alt.Tooltip("jahr:Q", title="Jahr", format="d"),
               alt.Tooltip("status_text:N", title="Status")]
    gap_mark = {"fontSize": 24, "fontWeight": "bold", "baseline": "bottom", "dy": 2}
    if (areas["marke"] != "").any():
        layers.append(sr.transform_filter(alt.datum.marke != "").mark_text(**gap_mark).encode(
            x=x, y=alt.value(height), text="marke:N", color=colour, opacity=opacity, tooltip=gap_tip))
    if len(refs) and (refs["marke"] != "").any():
        layers.append(base.transform_filter((alt.datum.art != "Sozialraum") & (alt.datum.marke != "")).mark_text(
            color=REF_COLOUR, **gap_mark).encode(x=x, y=alt.value(height), text="marke:N", tooltip=gap_tip))
    chart = alt.layer(*layers).properties(height=height, width="container",
                                          autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
                                          title=alt.Title(unit_title(title, unit), anchor="start"))
    return chart.resolve_scale(color="shared")


# --------------------------------------------------------------------------------------------
# comparison


def bar_frame(comp: pd.DataFrame, indicator_id: str, unit: str | None, decimals: int | None = None) -> pd.DataFrame:
    """One row per Sozialraum for one indicator (from :func:`quartier.series.comparison`)."""
    c = comp[comp["indikator_id"] == indicator_id].copy()
    out = pd.DataFrame({
        "sozialraum": c["sozialraum"].astype(str) + " (" + c["sozialraum_id"].astype(str) + ")",
        "jahr": c["jahr"].astype(int), "wert": c["wert"].astype(float), "status": c["status"],
        "zaehler": c["zaehler"].astype(float), "nenner": c["nenner"].astype(float),
        "rang": c["rang"], "n_rang": c["n_rang"], "wert_stadt": c["wert_stadt"].astype(float),
        "lieferung": c["lieferung"].fillna(""),
        "umgerechnet": c["umgerechnet"].fillna("").astype(str) if "umgerechnet" in c else "",
    })
    out["wert_text"] = [fmt.value(w, unit, decimals, suppressed=(s == "gesperrt")) for w, s in zip(out["wert"], out["status"])]
    out.loc[out["umgerechnet"] != "", "wert_text"] += " " + UMR_MARK  # re-allocated (Issue 19): visible mark
    out["zaehler_text"] = [fmt.SUPPRESSED if s == "gesperrt" else _ints(z) for z, s in zip(out["zaehler"], out["status"])]
    out["nenner_text"] = [_ints(n) for n in out["nenner"]]
    out["rang_text"] = [f"{int(a)} von {int(b)}" if pd.notna(a) and pd.notna(b) else fmt.NOTHING
                        for a, b in zip(out["rang"], out["n_rang"])]
    out["marke"] = out["status"].map(STATUS_MARK).fillna("")
    out["status_text"] = out["status"].map(STATUS_TEXT).fillna("Wert")
    return out.reset_index(drop=True)


def bar_chart(frame: pd.DataFrame, title: str, unit: str | None, richtung: str | None = None,
              city: str = "Stadt", decimals: int | None = None) -> alt.LayerChart:
    """Horizontal bars (most need on top), value labels, the city value as a labelled dashed rule;
    suppressed areas get a "•" instead of a bar."""
    desc = richtung != "lower"
    order = frame.sort_values("wert", ascending=not desc, na_position="last")["sozialraum"].tolist()
    y = alt.Y("sozialraum:N", title=None, sort=order, axis=alt.Axis(labelLimit=280))
    x = alt.X("wert:Q", title=unit_title(title, unit), axis=alt.Axis(format=axis_format(unit, decimals)))
    tooltip = [alt.Tooltip("sozialraum:N", title="Sozialraum"), alt.Tooltip("jahr:Q", title="Jahr", format="d"),
               alt.Tooltip("wert_text:N", title="Wert"), alt.Tooltip("zaehler_text:N", title="Zähler"),
               alt.Tooltip("nenner_text:N", title="Nenner"), alt.Tooltip("rang_text:N", title="Rang"),
               alt.Tooltip("lieferung:N", title="Lieferung"), alt.Tooltip("umgerechnet:N", title="Umrechnung")]
    base = alt.Chart(frame)
    bars = base.mark_bar(color=PALETTE[0], invalid="filter").encode(x=x, y=y, tooltip=tooltip)
    labels = base.mark_text(align="left", dx=4, fontSize=13).encode(x=alt.X("wert:Q"), y=y, text="wert_text:N")
    layers = [bars, labels]
    gaps = frame[frame["marke"] != ""]
    if len(gaps):
        layers.append(alt.Chart(gaps).mark_text(align="left", dx=4, fontSize=13).encode(
            x=alt.value(0), y=y, text=alt.Text("status_text:N"),
            tooltip=[alt.Tooltip("sozialraum:N", title="Sozialraum"), alt.Tooltip("status_text:N", title="Status")]))
    city_val = frame["wert_stadt"].dropna()
    if len(city_val):
        cv = float(city_val.iloc[0])
        rf = pd.DataFrame({"wert": [cv], "label": [f"{city}: {fmt.value(cv, unit, decimals)}"], "reihe": [f"{city} (Stadt)"]})
        rb = alt.Chart(rf)
        layers.append(rb.mark_rule(color=REF_COLOUR, strokeWidth=2).encode(
            x="wert:Q",
            strokeDash=alt.StrokeDash("reihe:N", title="Vergleichswert", scale=alt.Scale(range=DASHES[:1]),
                                      legend=alt.Legend(orient="bottom", symbolStrokeColor=REF_COLOUR)),
            tooltip=[alt.Tooltip("label:N", title="Vergleichswert")]))
        layers.append(rb.mark_text(align="left", dx=4, dy=-6, baseline="bottom", color=REF_COLOUR, fontSize=12,
                                   fontWeight="bold").encode(x="wert:Q", y=alt.value(0), text="label:N"))
    n = max(1, len(frame))
    per_bar = 30 if n <= 20 else (18 if n <= 60 else 10)
    return alt.layer(*layers).properties(width="container", height=max(120, per_bar * n + 30),
                                         autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
                                         title=alt.Title(unit_title(title, unit), anchor="start"))


# --------------------------------------------------------------------------------------------
# small multiples (profile)


def multiples_frame(values: pd.DataFrame, refs: pd.DataFrame, meta: pd.DataFrame, city: str = "Stadt") -> pd.DataFrame:
    """All indicators of one Sozialraum with the city reference; ``titel`` holds name and unit.
    A city total of a count says nothing next to one Sozialraum: only rates get the city line."""
    units = {i: (meta.loc[i, "einheit"] if i in meta.index else None) for i in values["indikator_id"].unique()}
    rate_ids = [i for i, u in units.items() if (u or "").strip().lower() != "anzahl"]
    city_refs = refs[(refs["ebene"] == "Stadt") & refs["indikator_id"].isin(rate_ids)]
    if values.empty:
        return pd.DataFrame(columns=["titel", "indikator_id", "reihe", "art", "jahr", "wert", "wert_text", "marke"])
    places = meta["dezimalstellen"] if "dezimalstellen" in meta.columns else pd.Series(dtype=float)
    decs = {i: fmt.decimals_for(units[i], places.get(i)) for i in units}
    out = series_rows(values, city_refs, units, city=city, bezirke=[], decimals=decs)
    titles = {i: unit_title(str(meta.loc[i, "kurzname"] if i in meta.index and meta.loc[i, "kurzname"] else i), units[i])
              for i in units}
    out["titel"] = out["indikator_id"].map(titles)
    out["dezimalstellen"] = out["indikator_id"].map(decs)
    order = {iid: k for k, iid in enumerate(meta.index)}
    out["_o"] = out["indikator_id"].map(order)
    return out.sort_values(["_o", "art", "jahr"]).drop(columns="_o").reset_index(drop=True)


def small_multiples(frame: pd.DataFrame, columns: int = 3, width: int = 220, height: int = 110) -> alt.ConcatChart:
    """One small line chart per indicator (independent y scales, each axis with the indicator's decimals,
    catalogue ``dezimalstellen``): the Sozialraum solid, the city dashed."""
    tooltip = [alt.Tooltip("titel:N", title="Indikator"), alt.Tooltip("reihe:N", title="Reihe"),
               alt.Tooltip("jahr:Q", title="Jahr", format="d"), alt.Tooltip("wert_text:N", title="Wert"),
               alt.Tooltip("umgerechnet:N", title="Umrechnung")]
    x = alt.X("jahr:Q", title=None, axis=alt.Axis(format="d", tickCount=4, labelOverlap=True),
              scale=alt.Scale(zero=False, nice=False))
    kinds = ["Sozialraum", "Stadt"]
    dash = alt.StrokeDash("art:N", title="Reihe", scale=alt.Scale(domain=kinds, range=[[1, 0], [6, 3]]),
                          legend=alt.Legend(orient="top", labelExpr="datum.label == 'Stadt' ? 'Gesamtstadt' : 'Sozialraum'"))
    colour = alt.Color("art:N", scale=alt.Scale(domain=kinds, range=[PALETTE[0], REF_COLOUR]), legend=None)
    panels = []
    for titel in dict.fromkeys(frame["titel"]):
        part = frame[frame["titel"] == titel]
        dec = part["dezimalstellen"].dropna() if "dezimalstellen" in part.columns else pd.Series(dtype=float)
        y_format = fmt.d3_format(int(dec.iloc[0])) if len(dec) else ",~r"
        y = alt.Y("wert:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(format=y_format, tickCount=4))
        base = alt.Chart()  # the data goes on the layer: Altair would otherwise hash the frame's text to hoist it
        line = base.mark_line(invalid="break-paths-filter-domains", point=alt.OverlayMarkDef(size=18)).encode(
            x=x, y=y, strokeDash=dash, color=colour, tooltip=tooltip)
        gaps = base.transform_filter(alt.datum.marke != "").mark_text(fontSize=14, baseline="bottom").encode(
            x=x, y=alt.YValue(height), text=alt.Text("marke:N"),
            tooltip=[alt.Tooltip("jahr:Q", title="Jahr", format="d"), alt.Tooltip("status_text:N", title="Status")])
        panels.append(alt.layer(line, gaps, data=part).properties(
            width=width, height=height,
            title=alt.TitleParams(str(titel), fontSize=12, fontWeight="bold", limit=width, anchor="middle")))
    return alt.concat(*panels, columns=columns).resolve_scale(y="independent")


# --------------------------------------------------------------------------------------------
# export


def spec(chart) -> dict:
    """The Vega-Lite spec with inline data, without Altair's 5,000-row limit (a district of 500
    Sozialräume over 20 years has 10,000 points)."""
    with alt.data_transformers.disable_max_rows():
        return chart.to_dict()


def to_svg(chart) -> str:
    import json

    import vl_convert as vlc

    return vlc.vegalite_to_svg(json.dumps(spec(chart)), format_locale="de-DE")


def to_png(chart, scale: float = 2.0) -> bytes:
    import json

    import vl_convert as vlc

    return vlc.vegalite_to_png(json.dumps(spec(chart)), scale=scale, format_locale="de-DE")


def export_width(chart, width: int = 760):
    """Charts with ``width="container"`` need a fixed width for file export."""
    spec = chart.copy(deep=True)
    try:
        spec = spec.properties(width=width)
    except Exception:  # noqa: BLE001 - facet charts have no width of their own
        return chart
    return spec
