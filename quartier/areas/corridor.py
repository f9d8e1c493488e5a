"""Corridor analysis: is an indicator higher along an axis (a main road, say) than in the rest of the city?

All areas and distances are computed in ETRS89 / UTM 32N (EPSG:25832, :mod:`quartier.geo`). A Sozialraum
belongs to the corridor when at least ``share`` of its area lies within ``width_m`` metres of the axis.
Inside and outside values are weighted by the denominator: sum of numerators / sum of denominators ×
unit factor (never a mean of rates). Count indicators (no denominator) are summed.

Small numbers: values come from :func:`quartier.indicators.current_values` with the caller's actor, so a
viewer gets suppressed values as suppressed. Suppressed values are never counted (neither individually
nor inside a group total, which would make them recoverable); the result says how many were left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from quartier import db
from quartier import format as fmt
from quartier.access import Actor
from quartier.areas import geometry as geo
from quartier.errors import QuartierError
from quartier.values import coverage, indicators


class CorridorError(QuartierError):
    """Unusable request (unknown indicator, year or axis); German message."""


def _transform_many(geoms, src: str, dst: str) -> np.ndarray:
    """Reproject an array of geometries with one vectorised pyproj call (much faster than one by one)."""
    arr = np.asarray(geoms, dtype=object)
    t = geo._transformer(src, dst)

    def f(xy):
        x, y = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(arr, f)


def to_metric_many(geoms) -> np.ndarray:
    return _transform_many(geoms, "EPSG:4326", geo.METRIC_CRS)


def to_wgs84_many(geoms) -> np.ndarray:
    return _transform_many(geoms, geo.METRIC_CRS, "EPSG:4326")


@dataclass
class Geometry:
    """Sozialräume and axes in the metric CRS."""

    ids: list[str]
    names: dict[str, str]
    bezirk: dict[str, str | None]
    areas_m: list  # shapely geometries (UTM), same order as ids
    axes_m: dict[str, object]


def load_geometry(con) -> Geometry:
    df = db.query_df(con, "SELECT s.id, s.name, b.name AS bezirk, s.geometry FROM sozialraum s"
                          " LEFT JOIN stadtbezirk b ON b.id = s.bezirk_id ORDER BY b.nr, s.id")
    ax = db.query_df(con, "SELECT name, geometry FROM achse ORDER BY name")
    ids = [str(i) for i in df["id"]]
    return Geometry(
        ids=ids,
        names=dict(zip(ids, df["name"].astype(str))),
        bezirk={i: (None if pd.isna(b) else str(b)) for i, b in zip(ids, df["bezirk"])},
        areas_m=list(to_metric_many(shapely.from_geojson(df["geometry"].tolist()))),
        axes_m={str(n): geo.to_metric(geo.geom_from_text(t)) for n, t in zip(ax["name"], ax["geometry"])},
    )


NO_AXIS_HINT = ("Für diese Stadt ist keine Achse eingerichtet, daher gibt es keinen Korridor-Vergleich. Eine Achse "
                "(z. B. eine Hauptverkehrsstraße als GeoJSON-Linie) legt die Administration beim Einrichten an: "
                "`python -m quartier init --geometry GEBIETE.geojson --id-field … --name-field … "
                "--axis ACHSE.geojson --axis-name NAME`.")


def pick_axis(g: Geometry, axis: str | None) -> str:
    if not g.axes_m:
        raise CorridorError(NO_AXIS_HINT)
    if axis is None:
        return sorted(g.axes_m)[0]
    if axis not in g.axes_m:
        raise CorridorError(f"Achse {axis!r} ist nicht bekannt. Vorhandene Achsen: {', '.join(sorted(g.axes_m))}.")
    return axis


def membership(areas_m: list, ids: list[str], axis_m, width_m: float, share: float = 0.25) -> pd.DataFrame:
    """Per Sozialraum: share of its area within ``width_m`` of the axis, centroid distance, membership."""
    if width_m <= 0:
        raise CorridorError("Die Korridorbreite muss größer als 0 m sein.")
    if not 0 < share <= 1:
        raise CorridorError("Der Flächenanteil muss zwischen 0 und 1 liegen (z. B. 0.25 für 25 %).")
    arr = np.array(areas_m, dtype=object)
    buf = axis_m.buffer(width_m, quad_segs=16)
    area = shapely.area(arr)
    inter = shapely.area(shapely.intersection(arr, buf))
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(area > 0, inter / area, 0.0)
    dist = shapely.distance(shapely.centroid(arr), axis_m)
    frac = np.clip(frac, 0.0, 1.0)
    return pd.DataFrame({
        "sozialraum_id": ids,
        "area_share": frac,
        "distance_m": dist,
        # a tiny tolerance so that "exactly 25 %" counts as 25 %
        "in_corridor": frac >= share - 1e-9,
    })


def corridor_polygon(axis_m, width_m: float):
    """The corridor band in WGS84 (for the map)."""
    return geo.to_wgs84(axis_m.buffer(width_m, quad_segs=8).simplify(5))


def weighted(values: pd.DataFrame, unit: str | None) -> dict:
    """Weighted value of a group: Σ numerators / Σ denominators × unit factor; sum for count indicators.

    ``values`` must only contain usable (not suppressed) rows.
    """
    has_den = values["nenner"].notna().any()
    if has_den:
        ok = values[values["zaehler"].notna() & values["nenner"].notna()]
        num, den = float(ok["zaehler"].sum()), float(ok["nenner"].sum())
        val = num / den * indicators.rate_factor(unit) if den > 0 else None
        return {"value": val, "numerator": num if len(ok) else None, "denominator": den if len(ok) else None,
                "count": int(len(ok))}
    ok = values[values["wert"].notna()]
    return {"value": float(ok["wert"].sum()) if len(ok) else None, "numerator": None, "denominator": None,
            "count": int(len(ok))}


def fit_line(x, y) -> dict:
    """Pearson r and the least-squares line y = intercept + slope·x (``None`` with < 3 points or no spread)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"r": None, "slope": None, "intercept": None, "n": int(len(x))}
    slope, intercept = np.polyfit(x, y, 1)
    r = float(np.corrcoef(x, y)[0, 1])
    return {"r": r, "slope": float(slope), "intercept": float(intercept), "n": int(len(x))}


@dataclass
class CorridorResult:
    axis: str
    width_m: float
    share: float
    indicator: str
    indicator_name: str
    unit: str | None
    direction: str | None
    year: int
    inside: dict
    outside: dict
    difference: float | None
    sentence: str
    areas: pd.DataFrame  # sozialraum_id, name, bezirk, area_share, distance_m, in_corridor, wert, zaehler, nenner, gesperrt
    fit: dict
    suppressed_inside: int = 0
    suppressed_outside: int = 0
    notes: list[str] = field(default_factory=list)
    coverage: tuple[int, int] | None = None  # (Sozialräume delivered, expected) in the year
    decimals: int | None = None  # the indicator's (catalogue ``dezimalstellen``); None = by unit

    @property
    def dec(self) -> int:
        return fmt.decimals_for(self.unit) if self.decimals is None else int(self.decimals)

    @property
    def incomplete(self) -> bool:
        return self.coverage is not None and self.coverage[0] < self.coverage[1]

    def to_json(self) -> dict:
        def num(v, nd=6):
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), nd)

        def grp(d):
            return {"value": num(d["value"]), "numerator": num(d["numerator"]), "denominator": num(d["denominator"]),
                    "count": d["count"]}

        return {
            "axis": self.axis,
            "width_m": self.width_m,
            "share": self.share,
            "indicator": self.indicator,
            "year": self.year,
            "inside": grp(self.inside),
            "outside": grp(self.outside),
            "difference": num(self.difference),
            "sentence": self.sentence,
            "sozialraeume": [
                {"id": r["sozialraum_id"], "name": r["name"], "area_share": round(float(r["area_share"]), 4),
                 "distance_m": round(float(r["distance_m"]), 1),
                 "value": None if r["gesperrt"] or pd.isna(r["wert"]) else num(r["wert"]),
                 "in_corridor": bool(r["in_corridor"])}
                for r in self.areas.to_dict("records")
            ],
            "coverage": None if self.coverage is None else {"delivered": self.coverage[0], "total": self.coverage[1]},
        }


def width_text(width_m: float) -> str:
    return f"{fmt.integer(width_m)}-m-Korridor"


def make_sentence(axis: str, width_m: float, share: float, name: str, unit: str | None, direction: str | None,
                  year: int, inside: dict, outside: dict, n_inside: int, n_total: int,
                  suppressed: int, decimals: int | None = None) -> str:
    dec = fmt.decimals_for(unit) if decimals is None else int(decimals)
    where = f"Im {width_text(width_m)} um die {axis}"
    crit = f"mindestens {fmt.integer(share * 100)} % ihrer Fläche im Korridor"
    if n_inside == 0:
        return (f"Bei {fmt.integer(width_m)} m Breite liegt kein Sozialraum mit {crit} um die {axis}; "
                "ein Vergleich ist nicht möglich. Bitte den Korridor breiter oder den Flächenanteil kleiner wählen.")
    if n_inside == n_total:
        return (f"Bei {fmt.integer(width_m)} m Breite liegen alle Sozialräume mit {crit} um die {axis}; "
                "es gibt kein übriges Stadtgebiet zum Vergleich. Bitte den Korridor schmaler wählen.")
    note = ""
    if suppressed:
        note = (f" {suppressed} gesperrte{'r' if suppressed == 1 else ''} Wert{'' if suppressed == 1 else 'e'} "
                f"(kleine Fallzahl) {'ist' if suppressed == 1 else 'sind'} nicht berücksichtigt.")
    if inside["value"] is None or outside["value"] is None:
        return (f"{where} fehlen für „{name}“ {year} die Werte (oder sie sind gesperrt); "
                "ein Vergleich ist nicht möglich." + note)
    count_ind = (unit or "").lower() == "anzahl"
    a, b = fmt.value(inside["value"], unit, dec), fmt.value(outside["value"], unit, dec)
    if count_ind:
        text = f"{where} zählt „{name}“ {year} zusammen {a} gegenüber {b} im übrigen Stadtgebiet"
    else:
        text = f"{where} liegt „{name}“ {year} bei {a} gegenüber {b} im übrigen Stadtgebiet"
    diff = inside["value"] - outside["value"]
    if not count_ind:
        if abs(diff) < 0.05:
            text += " – praktisch gleich"
        else:
            unit_word = " Prozentpunkte" if unit == "%" else (f" {unit}" if unit else "")
            text += f" – {fmt.number(abs(diff), dec)}{unit_word} {'höher' if diff > 0 else 'niedriger'}"
            if direction in ("higher", "lower"):
                more_need = (diff > 0) == (direction == "higher")
                text += f", also {'mehr' if more_need else 'weniger'} Bedarf im Korridor"
    text += (f" ({n_inside} von {n_total} Sozialräumen mit {crit}"
             + ("" if count_ind else "; gewichtet nach dem Nenner") + ").")
    return text + note


def _indicator(con, indicator_id: str) -> dict:
    cat = indicators.catalogue(con)
    row = cat[cat["id"] == indicator_id]
    if row.empty:
        raise CorridorError(f"Indikator {indicator_id!r} ist nicht bekannt. Verfügbar: {', '.join(cat['id'])}.")
    r = row.iloc[0]
    return {"id": indicator_id, "name": str(r["name"]), "unit": None if pd.isna(r["einheit"]) else str(r["einheit"]),
            "direction": None if pd.isna(r["richtung"]) else str(r["richtung"]),
            "decimals": indicators.decimals(row)[indicator_id]}


def compare(members: pd.DataFrame, values_year: pd.DataFrame, unit: str | None) -> tuple[dict, dict, pd.DataFrame, int, int]:
    """Join membership with one year's values; weighted inside/outside (suppressed left out)."""
    v = values_year.drop_duplicates("sozialraum_id")
    pos = {s: i for i, s in enumerate(v["sozialraum_id"].tolist())}
    idx = np.fromiter((pos.get(s, -1) for s in members["sozialraum_id"].tolist()), dtype=np.int64, count=len(members))
    ok = idx >= 0
    df = members.copy()
    for col in ("wert", "zaehler", "nenner"):
        arr = np.full(len(df), np.nan)
        arr[ok] = pd.to_numeric(v[col], errors="coerce").to_numpy(dtype=float)[idx[ok]]
        df[col] = arr
    hid = np.zeros(len(df), dtype=bool)
    hid[ok] = v["gesperrt"].fillna(False).to_numpy(dtype=bool)[idx[ok]]
    df["gesperrt"] = hid
    usable = df[~df["gesperrt"]]
    inside = weighted(usable[usable["in_corridor"]], unit)
    outside = weighted(usable[~usable["in_corridor"]], unit)
    s_in = int((df["gesperrt"] & df["in_corridor"]).sum())
    s_out = int((df["gesperrt"] & ~df["in_corridor"]).sum())
    return inside, outside, df, s_in, s_out


def incomplete_sentence(name: str, year: int, cov: tuple[int, int], comparison: str | None) -> str:
    """The corridor sentence for a year whose delivery is incomplete: no comparison, or the comparison
    (when asked for) with the warning in front."""
    head = f"„{name}“ {year}: {coverage.text(*cov)}."
    if comparison is None:
        return (f"{head} Ein Vergleich mit dem übrigen Stadtgebiet wird deshalb nicht berechnet; "
                "er ist nur auf ausdrücklichen Wunsch möglich (Vergleich trotz unvollständiger Lieferung).")
    return f"{head} Vergleich trotz unvollständiger Lieferung, nur unter den gelieferten Sozialräumen: {comparison}"


def analyse(con, indicator_id: str, year: int, width_m: float, share: float = 0.25, axis: str | None = None, *,
            actor: Actor, geometry: Geometry | None = None, values: pd.DataFrame | None = None,
            members: pd.DataFrame | None = None, allow_incomplete: bool = False) -> CorridorResult:
    """The corridor comparison for one indicator and year.

    When fewer Sozialräume delivered than expected (:mod:`quartier.values.coverage`) the inside/outside
    values stay empty unless ``allow_incomplete``; the sentence says so either way.

    ``geometry``/``values``/``members`` may be passed in (cached by the UI); otherwise they are loaded.
    """
    ind = _indicator(con, indicator_id)
    g = geometry or load_geometry(con)
    ax = pick_axis(g, axis)
    if values is None:
        values = indicators.current_values(con, [indicator_id], actor=actor)
    vy = values[(values["indikator_id"] == indicator_id) & (values["jahr"] == int(year))]
    if vy.empty:
        have = sorted(values.loc[values["indikator_id"] == indicator_id, "jahr"].unique().tolist())
        raise CorridorError(
            f"Für „{ind['name']}“ liegen {year} keine Werte vor."
            + (f" Vorhandene Jahre: {', '.join(str(y) for y in have)}." if have else " Es wurden noch keine Werte geliefert.")
        )
    if members is None:
        members = membership(g.areas_m, g.ids, g.axes_m[ax], width_m, share)
    inside, outside, df, s_in, s_out = compare(members, vy, ind["unit"])
    cov = coverage.city(con, indicator_id, int(year))
    withheld = cov is not None and cov[0] < cov[1] and not allow_incomplete
    if withheld:  # an incomplete delivery is no picture of the city: no comparison unless asked
        inside = {**inside, "value": None, "numerator": None, "denominator": None}
        outside = {**outside, "value": None, "numerator": None, "denominator": None}
    df.insert(1, "name", df["sozialraum_id"].map(g.names))
    df.insert(2, "bezirk", df["sozialraum_id"].map(g.bezirk))
    diff = None if inside["value"] is None or outside["value"] is None else inside["value"] - outside["value"]
    n_in = int(df["in_corridor"].sum())
    sentence = make_sentence(ax, width_m, share, ind["name"], ind["unit"], ind["direction"], int(year), inside, outside,
                             n_in, len(df), s_in + s_out, ind["decimals"])
    if cov is not None and cov[0] < cov[1]:
        sentence = incomplete_sentence(ind["name"], int(year), cov, sentence if not withheld else None)
    usable = df[~df["gesperrt"] & df["wert"].notna()]
    notes = []
    if s_in + s_out:
        notes.append(f"{s_in + s_out} gesperrte Werte (kleine Fallzahl) sind in keinem Vergleich enthalten.")
    return CorridorResult(
        axis=ax, width_m=float(width_m), share=float(share), indicator=indicator_id, indicator_name=ind["name"],
        unit=ind["unit"], direction=ind["direction"], year=int(year), inside=inside, outside=outside,
        difference=diff, sentence=sentence, areas=df, fit=fit_line(usable["distance_m"], usable["wert"]),
        suppressed_inside=s_in, suppressed_outside=s_out, notes=notes, coverage=cov,
        decimals=ind["decimals"],
    )


def over_years(con, indicator_id: str, width_m: float, share: float = 0.25, axis: str | None = None, *,
               actor: Actor, geometry: Geometry | None = None, values: pd.DataFrame | None = None,
               members: pd.DataFrame | None = None) -> pd.DataFrame:
    """The comparison for every year with values: jahr, innen, aussen, differenz, r, gesperrt (vectorised)."""
    ind = _indicator(con, indicator_id)
    if members is None or values is None:
        g = geometry or load_geometry(con)
        ax = pick_axis(g, axis)
        if values is None:
            values = indicators.current_values(con, [indicator_id], actor=actor)
        if members is None:
            members = membership(g.areas_m, g.ids, g.axes_m[ax], width_m, share)
    v = values[values["indikator_id"] == indicator_id]
    cols = ["jahr", "innen", "aussen", "differenz", "r", "gesperrt"]
    if v.empty:
        return pd.DataFrame(columns=cols)
    pos = {s: i for i, s in enumerate(members["sozialraum_id"].tolist())}
    idx = np.fromiter((pos.get(s, -1) for s in v["sozialraum_id"].tolist()), dtype=np.int64, count=len(v))
    known = idx >= 0
    inside = np.zeros(len(v), dtype=bool)
    inside[known] = members["in_corridor"].to_numpy(dtype=bool)[idx[known]]
    dist = np.full(len(v), np.nan)
    dist[known] = members["distance_m"].to_numpy(dtype=float)[idx[known]]
    hidden = v["gesperrt"].fillna(False).to_numpy(dtype=bool)
    wert = pd.to_numeric(v["wert"], errors="coerce").to_numpy(dtype=float)
    num = pd.to_numeric(v["zaehler"], errors="coerce").to_numpy(dtype=float)
    den = pd.to_numeric(v["nenner"], errors="coerce").to_numpy(dtype=float)
    has_den = bool(np.isfinite(den).any())
    factor = indicators.rate_factor(ind["unit"])
    years = v["jahr"].to_numpy(dtype=int)
    rows = []
    for year in np.unique(years):
        sel = (years == year) & known
        use = sel & ~hidden

        def group(mask):
            if has_den:
                ok = mask & np.isfinite(num) & np.isfinite(den)
                d = den[ok].sum()
                return float(num[ok].sum() / d * factor) if ok.any() and d > 0 else None
            ok = mask & np.isfinite(wert)
            return float(wert[ok].sum()) if ok.any() else None

        a, b = group(use & inside), group(use & ~inside)
        ok = use & np.isfinite(wert)
        rows.append({"jahr": int(year), "innen": a, "aussen": b,
                     "differenz": None if a is None or b is None else a - b,
                     "r": fit_line(dist[ok], wert[ok])["r"], "gesperrt": int((sel & hidden).sum())})
    return pd.DataFrame(rows, columns=cols)


def result_tables(res: CorridorResult, years: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The corridor result as sheets for a small .xlsx (German headings)."""
    dec = res.dec
    summary = pd.DataFrame([
        {"Angabe": "Achse", "Wert": res.axis},
        {"Angabe": "Korridorbreite (m)", "Wert": fmt.integer(res.width_m)},
        {"Angabe": "Mindestanteil der Fläche", "Wert": f"{fmt.integer(res.share * 100)} %"},
        {"Angabe": "Indikator", "Wert": f"{res.indicator_name} ({res.indicator})"},
        {"Angabe": "Jahr", "Wert": str(res.year)},
        {"Angabe": "Wert im Korridor", "Wert": fmt.value(res.inside["value"], res.unit, dec)},
        {"Angabe": "Wert im übrigen Stadtgebiet", "Wert": fmt.value(res.outside["value"], res.unit, dec)},
        {"Angabe": "Differenz", "Wert": fmt.change(res.difference, res.unit, dec) if res.difference is not None else fmt.NOTHING},
        {"Angabe": "Sozialräume im Korridor (mit Wert)", "Wert": str(res.inside["count"])},
        {"Angabe": "Sozialräume außerhalb (mit Wert)", "Wert": str(res.outside["count"])},
        {"Angabe": "Korrelation r (Wert ~ Abstand)", "Wert": fmt.number(res.fit["r"], 2) if res.fit["r"] is not None else fmt.NOTHING},
        {"Angabe": "Aussage", "Wert": res.sentence},
    ])
    areas = pd.DataFrame({
        "sozialraum_id": res.areas["sozialraum_id"],
        "sozialraum": res.areas["name"],
        "stadtbezirk": res.areas["bezirk"],
        "flaechenanteil_korridor": res.areas["area_share"].round(4),
        "abstand_m": res.areas["distance_m"].round(0),
        "im_korridor": res.areas["in_corridor"].map({True: "ja", False: "nein"}),
        "wert": res.areas["wert"].where(~res.areas["gesperrt"]),
        "zaehler": res.areas["zaehler"].where(~res.areas["gesperrt"]),
        "nenner": res.areas["nenner"],
        "gesperrt": res.areas["gesperrt"].map({True: "ja", False: "nein"}),
    })
    sheets = {"Ergebnis": summary, "Sozialräume": areas}
    if years is not None and len(years):
        sheets["Jahre"] = years.rename(columns={"innen": "wert_korridor", "aussen": "wert_uebrige_stadt"})
    return sheets
