"""Map values: the frame of one indicator and year, feature properties, summary and table; map settings.

Classification and legends: :mod:`quartier.areas.classes`; pydeck layers: :mod:`quartier.areas.layers`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quartier import format as fmt
from quartier import units
from quartier.areas.classes import Classification, decimals_for, legend
from quartier.areas.layers import CARTO_LIGHT
from quartier.values import uncertainty

# --------------------------------------------------------------------------------------------
# Per-area properties for the map (tooltip, colour, label)


def map_frame(values: pd.DataFrame, areas: pd.DataFrame, year: int, unit: str | None,
              direction: str | None) -> pd.DataFrame:
    """One row per Sozialraum for ``year``: value, numerator/denominator, suppression, rank, change.

    ``values``: rows of one indicator (any years) as from ``indicators.current_values``.
    Rank 1 = most need (respecting the direction; without a direction: highest value).
    """
    ids = areas["id"].astype(str)
    years = values["jahr"]
    prev_year = int(years[years < year].max()) if (years < year).any() else None

    def one(y):
        cur = values[values["jahr"] == y].drop_duplicates("sozialraum_id").set_index("sozialraum_id")
        return cur.reindex(ids)

    cur = one(year)
    hidden = cur["gesperrt"].fillna(False).astype(bool).to_numpy()
    wert = pd.to_numeric(cur["wert"], errors="coerce").to_numpy(dtype=float, copy=True)
    wert[hidden] = np.nan
    if prev_year is not None:
        prev = one(prev_year)
        pv = pd.to_numeric(prev["wert"], errors="coerce").to_numpy(dtype=float, copy=True)
        pv[prev["gesperrt"].fillna(False).astype(bool).to_numpy()] = np.nan
    else:
        pv = np.full(len(ids), np.nan)
    df = pd.DataFrame({
        "sozialraum_id": ids.to_numpy(), "sozialraum": areas["name"].to_numpy(),
        "bezirk": areas["bezirk"].to_numpy() if "bezirk" in areas else None,
        "wert": wert, "zaehler": pd.to_numeric(cur["zaehler"], errors="coerce").to_numpy(dtype=float),
        "nenner": pd.to_numeric(cur["nenner"], errors="coerce").to_numpy(dtype=float),
        "gesperrt": hidden, "vorjahr": pv, "vorjahr_jahr": prev_year, "veraenderung": wert - pv,
        # re-allocated from an earlier Gebietsstand: the method (Issue 19), else empty
        "umgerechnet": (cur["umgerechnet"].where(cur["umgerechnet"].notna(), "").astype(str).to_numpy()
                        if "umgerechnet" in cur else ""),
    })
    df["rang"] = df["wert"].rank(ascending=direction == "lower", method="min")
    # 95 % interval (Wilson for rates, exact Poisson for counts) from the values as given (protected for
    # viewers); none for a suppressed value
    lo, hi = uncertainty.interval(df["wert"], df["zaehler"], df["nenner"], unit)
    df["ki_unten"], df["ki_oben"] = np.where(hidden, np.nan, lo), np.where(hidden, np.nan, hi)
    return df


def small_base(nenner, threshold: float = 50) -> bool:
    return nenner is not None and not pd.isna(nenner) and 0 < float(nenner) < threshold


_DE = str.maketrans({",": ".", ".": ","})


def _num_texts(values: np.ndarray, decimals: int) -> list[str]:
    """German number texts for many values at once (same output as :func:`quartier.format.number`)."""
    fmt_spec = f"{{:,.{decimals}f}}"
    return [fmt.NOTHING if not np.isfinite(v) else fmt.unsigned_zero(fmt_spec.format(v).translate(_DE)) for v in values]


def _value_texts(values: np.ndarray, unit: str | None, decimals: int) -> list[str]:
    u = (unit or "").strip()
    if u.lower() == "anzahl":
        return _num_texts(values, 0)
    suffix = " %" if u == "%" else (f" {u}" if u else "")
    return [t if t == fmt.NOTHING else t + suffix for t in _num_texts(values, decimals)]


def _change_texts(values: np.ndarray, unit: str | None, decimals: int) -> list[str]:
    u = (unit or "").strip()
    suffix = " Pp." if u == "%" else (f" {u}" if u and u.lower() != "anzahl" else "")
    texts = _num_texts(np.abs(values), 0 if u.lower() == "anzahl" else decimals)
    return [t if t == fmt.NOTHING else ("±" if fmt.is_zero_text(t) else "+" if v > 0 else "−") + t + suffix
            for t, v in zip(texts, values)]



def _interval_texts(frame: pd.DataFrame, unit: str | None, decimals: int) -> list[str]:
    """' (9,8–15,5)' per row (empty without interval), as :func:`quartier.values.uncertainty.text` writes it."""
    if "ki_unten" not in frame:
        return [""] * len(frame)
    d = 0 if units.is_count(unit) else decimals
    lo, hi = frame["ki_unten"].to_numpy(dtype=float), frame["ki_oben"].to_numpy(dtype=float)
    ok = np.isfinite(lo) & np.isfinite(hi)
    out = [""] * len(frame)
    # interval bounds are never negative, so no "-0,0" can arise: format only the rows with an interval
    spec = f"{{:,.{d}f}}"
    for k, a, b in zip(np.nonzero(ok)[0].tolist(), lo[ok].tolist(), hi[ok].tolist()):
        out[k] = f" ({spec.format(a).translate(_DE)}–{spec.format(b).translate(_DE)})"
    return out


def area_properties(frame: pd.DataFrame, cls: Classification, indicator_name: str, unit: str | None,
                    corridor_ids: set[str] | None = None, decimals: int | None = None) -> dict[str, dict]:
    """Feature properties per Sozialraum: fill colour, label and tooltip texts (plain text; escaped later).

    Column-wise (10,000 areas in well under a second); texts equal those of :mod:`quartier.format`
    (``decimals``: the indicator's, catalogue ``dezimalstellen``; default by unit).
    """
    dec = decimals_for(unit) if decimals is None else decimals
    n = len(frame)
    n_ranked = int(frame["rang"].notna().sum())
    ids = frame["sozialraum_id"].astype(str).tolist()
    names = frame["sozialraum"].astype(str).tolist()
    bez = [b if isinstance(b, str) and b else fmt.NOTHING for b in frame["bezirk"].tolist()]
    hidden = frame["gesperrt"].to_numpy(dtype=bool)
    wert = frame["wert"].to_numpy(dtype=float)
    num = frame["zaehler"].to_numpy(dtype=float)
    den = frame["nenner"].to_numpy(dtype=float)
    rang = frame["rang"].to_numpy(dtype=float)
    wert_t = _value_texts(wert, unit, dec)
    change_t = _change_texts(frame["veraenderung"].to_numpy(dtype=float), unit, dec)
    ki_t = _interval_texts(frame, unit, dec)
    num_t = _num_texts(num, 0)
    den_t = _num_texts(den, 0)
    classes = cls.classes if len(cls.classes) == n else np.full(n, -1)
    small = np.isfinite(den) & (den > 0) & (den < 50)
    umr = frame["umgerechnet"].fillna("").astype(str).tolist() if "umgerechnet" in frame else [""] * n
    out = {}
    for i in range(n):
        hint = [umr[i]] if umr[i] else []
        if hidden[i]:
            hint.append("Wert gesperrt (kleine Fallzahl, Datenschutz)")
        elif not np.isfinite(wert[i]):
            hint.append("keine Daten")
        if small[i]:
            hint.append(f"kleine Basis (Nenner {den_t[i]}): Wert mit Vorsicht lesen")
        if corridor_ids is not None and ids[i] in corridor_ids:
            hint.append("im Korridor")
        if np.isfinite(den[i]):
            z = fmt.SUPPRESSED if hidden[i] or not np.isfinite(num[i]) else num_t[i]
            bruch = f"{z} / {den_t[i]}"
        else:
            bruch = fmt.NOTHING
        out[ids[i]] = {
            "id": ids[i],
            "name": names[i],
            "bezirk": bez[i],
            "wert_text": fmt.SUPPRESSED if hidden[i] else wert_t[i],
            "ki": "" if hidden[i] else ki_t[i],
            "bruch": bruch,
            "rang": f"{int(rang[i])} von {n_ranked}" if np.isfinite(rang[i]) else fmt.NOTHING,
            "veraenderung": change_t[i],
            "hinweis": "; ".join(hint),
            "fill": cls.color_of(int(classes[i]), bool(hidden[i])),
            "label": names[i],
        }
    return out

def summary_text(frame: pd.DataFrame, indicator_name: str, unit: str | None, year: int,
                 city_value: float | None, city_suppressed: bool = False, direction: str | None = None, n: int = 3,
                 city_incomplete: str | None = None, decimals: int | None = None) -> str:
    """A plain-language description of the map (text alternative)."""
    dec = decimals_for(unit) if decimals is None else decimals
    ok = frame[frame["wert"].notna()].sort_values("wert", ascending=False)
    if ok.empty:
        return f"Für „{indicator_name}“ liegen {year} keine darstellbaren Werte vor."

    def lst(df):
        return ", ".join(f"{r['sozialraum']} ({fmt.value(r['wert'], unit, dec)})" for r in df.to_dict("records"))

    parts = [f"Die Karte zeigt „{indicator_name}“ {year} für {len(frame)} Sozialräume."]
    parts.append(f"Die höchsten Werte haben {lst(ok.head(n))}.")
    parts.append(f"Die niedrigsten Werte haben {lst(ok.tail(n).iloc[::-1])}.")
    if city_incomplete:
        parts.append(f"Gesamtstadt: {city_incomplete}.")
    elif city_suppressed:
        parts.append(f"Der Wert der Gesamtstadt ist gesperrt ({fmt.SUPPRESSED}).")
    elif city_value is not None and not pd.isna(city_value):
        parts.append(f"Gesamtstadt: {fmt.value(city_value, unit, dec)}.")
    if direction in ("higher", "lower"):
        parts.append("Ein höherer Wert bedeutet mehr Bedarf." if direction == "higher"
                     else "Ein niedrigerer Wert bedeutet mehr Bedarf.")
    n_sup = int(frame["gesperrt"].sum())
    n_missing = int((frame["wert"].isna() & ~frame["gesperrt"]).sum())
    if n_sup:
        parts.append(f"{n_sup} Sozialr{'aum ist' if n_sup == 1 else 'äume sind'} gesperrt (kleine Fallzahlen).")
    if n_missing:
        parts.append(f"Für {n_missing} Sozialr{'aum' if n_missing == 1 else 'äume'} fehlen Werte.")
    return " ".join(parts)


def map_table(frame: pd.DataFrame, cls: Classification, members: pd.DataFrame | None = None) -> pd.DataFrame:
    """The mapped values as a table (ids as columns, numbers numeric, so it sorts and exports well)."""
    labels = {i: e["label"] for i, e in enumerate(legend(cls, always_special=False)) if e["kind"] == "class"}
    out = pd.DataFrame({
        "sozialraum_id": frame["sozialraum_id"],
        "sozialraum": frame["sozialraum"],
        "stadtbezirk": frame["bezirk"],
        "wert": frame["wert"],
        "zaehler": frame["zaehler"].where(~frame["gesperrt"]),
        "nenner": frame["nenner"],
        "gesperrt": frame["gesperrt"].map({True: "ja", False: "nein"}),
        "rang": frame["rang"].astype("Int64"),
        "ki_unten": frame["ki_unten"] if "ki_unten" in frame else np.nan,
        "ki_oben": frame["ki_oben"] if "ki_oben" in frame else np.nan,
        "veraenderung_vorjahr": frame["veraenderung"],
        "klasse": ["gesperrt" if s else labels.get(int(c), "keine Daten")
                   for c, s in zip(cls.classes, frame["gesperrt"])],
    })
    if "umgerechnet" in frame:
        out["umgerechnet"] = frame["umgerechnet"].fillna("").astype(str).to_numpy()
    if members is not None:
        pos = {s: i for i, s in enumerate(members["sozialraum_id"].tolist())}
        idx = np.fromiter((pos.get(s, -1) for s in out["sozialraum_id"].tolist()), dtype=np.int64, count=len(out))
        ok = idx >= 0

        def pick(col, fill):
            arr = np.full(len(out), fill, dtype=object if isinstance(fill, str) else float)
            arr[ok] = members[col].to_numpy()[idx[ok]]
            return arr

        out["im_korridor"] = np.where(pick("in_corridor", np.nan) == 1, "ja", "nein")
        out["flaechenanteil_korridor_prozent"] = np.round(pick("area_share", np.nan) * 100, 1)
        out["abstand_achse_m"] = np.round(pick("distance_m", np.nan), 0)
    return out


def unit_title(name: str, unit: str | None) -> str:
    u = (unit or "").strip()
    return f"{name} (in {u})" if u in ("%", "‰") else (f"{name} ({u})" if u else name)


SETTING_BASEMAP = "karte_basiskarte"
SETTING_BREAKS = "karte_grenzen."  # + indicator id: inner class breaks "10;20;30"


def parse_breaks(text: str | None) -> list[float] | None:
    """Inner class breaks from a setting such as "10; 20,5; 30" (German decimal comma allowed)."""
    if not text or not text.strip():
        return None
    out = []
    for part in text.replace("|", ";").split(";"):
        p = part.strip().replace(",", ".")
        if p:
            try:
                out.append(float(p))
            except ValueError as exc:
                raise ValueError(f"Klassengrenze {part.strip()!r} ist keine Zahl. Beispiel: 10; 20; 30") from exc
    return sorted(set(out)) or None


def save_map_settings(con, actor, *, basemap: str | None = None, indicator_id: str | None = None,
                      breaks: str | None = None) -> None:
    """Store the basemap URL (empty = none) and/or fixed breaks of one indicator (administration only)."""
    from quartier import access, db

    access.require(actor, access.ADMIN, "Karteneinstellungen ändern")
    if basemap is not None and basemap.strip() and not basemap.strip().startswith("https://"):
        raise ValueError("Die Adresse der Hintergrundkarte muss mit https:// beginnen (z. B. " + CARTO_LIGHT + ").")
    if breaks is not None:
        parse_breaks(breaks)
    with db.transaction(con) as cur:
        if basemap is not None:
            db.set_setting(cur, SETTING_BASEMAP, basemap.strip())
            db.audit(cur, actor.name, "karte_basiskarte", SETTING_BASEMAP, basemap.strip() or "(keine)")
        if indicator_id is not None and breaks is not None:
            db.set_setting(cur, SETTING_BREAKS + indicator_id, breaks.strip())
            db.audit(cur, actor.name, "karte_klassengrenzen", indicator_id, breaks.strip() or "(keine)")
