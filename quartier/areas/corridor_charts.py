"""Pure Altair builders for the corridor analysis (no streamlit): value vs distance, and the years."""

from __future__ import annotations

import altair as alt
import pandas as pd

from quartier import format as fmt
from quartier.areas.corridor import CorridorResult
from quartier.values.indicators import rate_factor

GERMAN_NUMBERS = {"number": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", "\u00a0€"]}}
INSIDE, OUTSIDE = "im Korridor", "übriges Stadtgebiet"
COLOURS = {INSIDE: "#D55E00", OUTSIDE: "#0072B2"}  # Okabe-Ito: distinguishable with colour-vision deficiency
SHAPES = {INSIDE: "triangle-up", OUTSIDE: "circle"}


def _fmt_axis(unit: str | None, decimals: int | None = None) -> str:
    """The y axis format: the indicator's decimals (catalogue ``dezimalstellen``), else by unit."""
    return fmt.d3_format(fmt.decimals_for(unit) if decimals is None else decimals)


def unit_title(name: str, unit: str | None) -> str:
    u = (unit or "").strip()
    return f"{name} (in {u})" if u == "%" else (f"{name} ({u})" if u else name)


def scatter_frame(res: CorridorResult) -> pd.DataFrame:
    """Points with a value (suppressed and missing values are not plotted)."""
    dec = res.dec
    df = res.areas[~res.areas["gesperrt"] & res.areas["wert"].notna()].copy()
    return pd.DataFrame({
        "sozialraum": df["name"],
        "abstand_km": df["distance_m"] / 1000,
        "wert": df["wert"],
        "lage": df["in_corridor"].map({True: INSIDE, False: OUTSIDE}),
        "wert_text": df["wert"].map(lambda v: fmt.value(v, res.unit, dec)),
        "abstand_text": df["distance_m"].map(lambda v: f"{fmt.integer(v)} m"),
        "anteil_text": df["area_share"].map(lambda v: f"{fmt.integer(v * 100)} %"),
    })


MAX_POINTS = 1500


def binned_frame(res: CorridorResult, bins: int = 60) -> pd.DataFrame:
    """For large cities: areas grouped into distance classes of equal count; value weighted by the denominator."""
    a = res.areas[~res.areas["gesperrt"] & res.areas["wert"].notna()].copy()
    a["klasse"] = pd.qcut(a["distance_m"].rank(method="first"), bins, labels=False)
    has_den = a["nenner"].notna().all() and a["zaehler"].notna().all()
    g = a.groupby(["klasse"], observed=True)
    out = pd.DataFrame({
        "abstand_km": g["distance_m"].mean() / 1000,
        "wert": g["zaehler"].sum() / g["nenner"].sum() * rate_factor(res.unit) if has_den else g["wert"].mean(),
        "n": g.size(),
        "innen": g["in_corridor"].mean(),
    }).reset_index(drop=True)
    dec = res.dec
    out["lage"] = (out["innen"] >= 0.5).map({True: INSIDE, False: OUTSIDE})
    out["sozialraum"] = out["n"].map(lambda n: f"{fmt.integer(n)} Sozialräume")
    out["wert_text"] = out["wert"].map(lambda v: fmt.value(v, res.unit, dec))
    out["abstand_text"] = out["abstand_km"].map(lambda v: f"{fmt.integer(v * 1000)} m (Mittel)")
    out["anteil_text"] = out["innen"].map(lambda v: f"{fmt.integer(v * 100)} % der Gebiete im Korridor")
    return out


def scatter_chart(res: CorridorResult, height: int = 320) -> alt.LayerChart:
    """Value against the centroid's distance to the axis, with the least-squares line and r in the title.

    More than ``MAX_POINTS`` areas are drawn as distance classes (each point = equally many areas); r and
    the line still come from all areas.
    """
    n_points = int((~res.areas["gesperrt"] & res.areas["wert"].notna()).sum())
    binned = n_points > MAX_POINTS
    df = binned_frame(res) if binned else scatter_frame(res)
    ytitle = unit_title("Wert", res.unit)
    r = res.fit.get("r")
    sub = (f"Korrelation r = {fmt.number(r, 2)}, gestrichelt: Ausgleichsgerade" if r is not None
           else "zu wenige Werte für eine Korrelation")
    if binned:
        sub += f"; je Punkt rund {fmt.integer(n_points / len(df))} Sozialräume (Abstandsklassen)"
    title = alt.TitleParams(f"Wert {res.year} und Abstand zur {res.axis}", subtitle=sub)
    base = alt.Chart(df)
    points = base.mark_point(filled=True, size=90, opacity=0.9).encode(
        x=alt.X("abstand_km:Q", title=f"Abstand des Mittelpunkts zur {res.axis} (km)",
                axis=alt.Axis(format=",.1~f")),
        y=alt.Y("wert:Q", title=ytitle, axis=alt.Axis(format=_fmt_axis(res.unit, res.dec))),
        color=alt.Color("lage:N", title="Lage", scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values()))),
        shape=alt.Shape("lage:N", title="Lage", scale=alt.Scale(domain=list(SHAPES), range=list(SHAPES.values()))),
        tooltip=[alt.Tooltip("sozialraum:N", title="Sozialraum"), alt.Tooltip("wert_text:N", title="Wert"),
                 alt.Tooltip("abstand_text:N", title="Abstand"), alt.Tooltip("anteil_text:N", title="Fläche im Korridor"),
                 alt.Tooltip("lage:N", title="Lage")],
    )
    layers = [points]
    if res.fit.get("slope") is not None and len(df):
        x0, x1 = float(df["abstand_km"].min()), float(df["abstand_km"].max())
        line = pd.DataFrame({"abstand_km": [x0, x1],
                             "wert": [res.fit["intercept"] + res.fit["slope"] * x0 * 1000,
                                      res.fit["intercept"] + res.fit["slope"] * x1 * 1000],
                             "linie": ["Ausgleichsgerade"] * 2})
        layers.append(alt.Chart(line).mark_line(color="#333333", strokeDash=[6, 3]).encode(
            x="abstand_km:Q", y="wert:Q", detail="linie:N"))
    return alt.layer(*layers).properties(title=title, height=height).configure(locale=GERMAN_NUMBERS)


def years_frame(years: pd.DataFrame) -> pd.DataFrame:
    long = years.melt(id_vars=["jahr"], value_vars=["innen", "aussen"], var_name="lage", value_name="wert")
    long["lage"] = long["lage"].map({"innen": INSIDE, "aussen": OUTSIDE})
    return long.dropna(subset=["wert"])


def years_chart(years: pd.DataFrame, name: str, unit: str | None, axis: str, width_m: float,
                height: int = 280, decimals: int | None = None) -> alt.Chart:
    """Inside vs outside over the years: two lines that differ in colour AND dash and point shape."""
    df = years_frame(years)
    dec = fmt.decimals_for(unit) if decimals is None else int(decimals)
    df["wert_text"] = df["wert"].map(lambda v: fmt.value(v, unit, dec))
    return alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("jahr:O", title="Jahr"),
        y=alt.Y("wert:Q", title=unit_title("Wert", unit), axis=alt.Axis(format=_fmt_axis(unit, dec)),
                scale=alt.Scale(zero=False)),
        color=alt.Color("lage:N", title="Lage", scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values()))),
        strokeDash=alt.StrokeDash("lage:N", title="Lage",
                                  scale=alt.Scale(domain=[INSIDE, OUTSIDE], range=[[1, 0], [6, 3]])),
        shape=alt.Shape("lage:N", title="Lage", scale=alt.Scale(domain=list(SHAPES), range=list(SHAPES.values()))),
        tooltip=[alt.Tooltip("jahr:O", title="Jahr"), alt.Tooltip("lage:N", title="Lage"),
                 alt.Tooltip("wert_text:N", title="Wert")],
    ).properties(
        title=alt.TitleParams("Zeitverlauf", subtitle=f"{fmt.integer(width_m)}-m-Korridor um die {axis} und übriges Stadtgebiet"),
        height=height,
    ).configure(locale=GERMAN_NUMBERS)
