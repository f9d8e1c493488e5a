"""Hinweise (watch-list): what changed with a delivery, and whether it matters.

Four kinds, each for one Sozialraum, indicator and year (the "new" year), compared with earlier years of
the same area:

``klassenwechsel``
    the Handlungsbedarf class of a saved index method (latest version of each saved method) differs
    between the method's two latest years (computed with :func:`quartier.need.compute.compute` for the
    actor: a viewer's classes come from the protected values);
``schwelle``
    the value crossed the threshold set for the indicator in the catalogue (column ``schwelle``): upwards
    for indicators where a higher value means more need (or without direction), downwards for "lower";
    crossing back is shown as well, with less weight;
``auffaellig``
    the change against the previous year is larger than chance by the test of
    :mod:`quartier.values.uncertainty` (two-proportion z-test; Poisson test for counts), p < 5 %;
``trendbruch``
    the value lies outside the range predicted from the area's own five previous years: a straight line
    fitted to those five values, extended to the new year, ± 2 standard deviations of its residuals
    (at least ± 2 standard errors of the new value, so that sampling noise of small areas is no break).

Scope: for each indicator the newest year a Lieferung delivered (``lieferung``), or that the Lieferungen
imported since a date delivered (``seit``), or, without either, each indicator's latest year. Values are read as the
actor may see them (viewers: :func:`quartier.values.indicators.current_values` with protection).

Order of importance: worsening before improvement (by the indicator's direction), then class change,
threshold, trend break, auffällige change; within a kind the larger deviation first; ties by area and
indicator id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quartier import db, units
from quartier import format as fmt
from quartier.access import Actor
from quartier.errors import QuartierError
from quartier.names import normalize
from quartier.values import indicators, query, uncertainty

KINDS = ("klassenwechsel", "schwelle", "trendbruch", "auffaellig")
KIND_LABEL = {"klassenwechsel": "Klassenwechsel", "schwelle": "Schwelle", "trendbruch": "Trendbruch",
              "auffaellig": "auffällige Änderung"}
TREND_YEARS = 5
TREND_SD = 2.0
JSON_KEYS = ("sozialraum", "indikator", "jahr", "art", "alt", "neu", "text")


class HinweisError(QuartierError):
    """Unusable request (unknown Lieferung, Stadtbezirk or date); German message."""


@dataclass
class Hinweis:
    sozialraum: str
    indikator: str
    jahr: int
    art: str
    alt: float | str | None
    neu: float | str | None
    text: str
    sozialraum_name: str = ""
    bezirk_id: str | None = None
    schlechter: bool | None = None   # a worsening (by the indicator's direction); None: no direction
    staerke: float = 0.0             # size of the deviation within its kind (for the order)

    def to_json(self) -> dict:
        def num(v):
            if v is None or isinstance(v, str):
                return v
            return None if not np.isfinite(v) else round(float(v), 4)

        return {"sozialraum": self.sozialraum, "indikator": self.indikator, "jahr": int(self.jahr), "art": self.art,
                "alt": num(self.alt), "neu": num(self.neu), "text": self.text}


def sort_key(h: Hinweis) -> tuple:
    worse = 0 if h.schlechter is True else (1 if h.schlechter is None else 2)
    return (worse, KINDS.index(h.art), -h.staerke, h.sozialraum, h.indikator, -h.jahr)


# --------------------------------------------------------------------------------------------
# scope


def _parse_date(text: str) -> dt.datetime:
    for f in ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(str(text).strip(), f)
        except ValueError:
            continue
    raise HinweisError(f"Datum {text!r} nicht lesbar: bitte JJJJ-MM-TT oder TT.MM.JJJJ angeben.")


def scope_lieferungen(con, lieferung: int | None = None, seit: str | dt.datetime | None = None) -> list[int] | None:
    """The active Lieferungen in scope (None: no restriction)."""
    cur = con.cursor()
    if lieferung is not None:
        row = cur.execute("SELECT id, status FROM lieferung WHERE id = ?", [int(lieferung)]).fetchone()
        if not row:
            raise HinweisError(f"Lieferung Nr. {lieferung} gibt es nicht.")
        return [int(row[0])]
    if seit is not None:
        when = seit if isinstance(seit, dt.datetime) else _parse_date(seit)
        rows = cur.execute("SELECT id FROM lieferung WHERE status = 'aktiv' AND importiert_am >= ? ORDER BY id",
                           [when]).fetchall()
        return [int(r[0]) for r in rows]
    return None


def latest_lieferung(con) -> int | None:
    row = con.cursor().execute("SELECT max(id) FROM lieferung WHERE status = 'aktiv'").fetchone()
    return None if not row or row[0] is None else int(row[0])


def _pairs(con, lieferungen: list[int] | None) -> pd.DataFrame:
    if lieferungen is None:
        return pd.DataFrame([(i, b) for i, (_a, b) in query.year_span(con).items()], columns=["indikator_id", "jahr"])
    # the newest year each indicator got from these Lieferungen (a back-filled history gives no alarms for old years)
    return db.query_df(con, "SELECT indikator_id, max(jahr) AS jahr FROM messwert WHERE list_contains(?, lieferung_id)"
                            " GROUP BY indikator_id", [list(lieferungen)])


def resolve_bezirk(con, bezirk: str | None) -> str | None:
    if not bezirk:
        return None
    bez = indicators.bezirke(con)
    want = normalize(bezirk)
    for r in bez.to_dict("records"):
        if normalize(str(r["id"])) == want or normalize(str(r["name"])) == want:
            return str(r["id"])
    raise HinweisError(f"Stadtbezirk {bezirk!r} ist nicht bekannt. Vorhanden: {', '.join(bez['name'].astype(str))}.")


# --------------------------------------------------------------------------------------------
# values as a cube (indicator x area x year)


def _load(con, ids: list[str], years: list[int], actor: Actor) -> pd.DataFrame:
    """The values a viewer may see (protected); staff values go straight into the cube (:func:`_raw_cube`)."""
    return indicators.current_values(con, ids, years, actor=actor)[
        ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner"]]


@dataclass
class _Cube:
    ids: list[str]
    areas: np.ndarray
    y0: int
    wert: np.ndarray
    zaehler: np.ndarray
    nenner: np.ndarray

    def at(self, arr: np.ndarray, i: int, year: int) -> np.ndarray:
        k = year - self.y0
        if k < 0 or k >= arr.shape[2]:
            return np.full(arr.shape[1], np.nan)
        return arr[i, :, k]


def _raw_cube(con, ids: list[str], areas: np.ndarray, years: list[int]) -> _Cube:
    """The raw current values as a cube, indexed inside DuckDB (integer positions of indicator and area come
    from a join with the two small lists): no strings reach Python, which at 840,000 values saves most of
    the time of building the cube."""
    y0 = min(years)
    shape = (len(ids), len(areas), max(years) - y0 + 1)
    cur = con.cursor()
    try:
        cur.register("_hw_inds", pd.DataFrame({"indikator_id": list(ids), "ii": np.arange(len(ids), dtype=np.int64)}))
        cur.register("_hw_areas", pd.DataFrame({"sozialraum_id": [str(a) for a in areas],
                                                "aa": np.arange(len(areas), dtype=np.int64)}))
        got = cur.execute(
            "SELECT i.ii, a.aa, v.jahr, v.wert::DOUBLE AS wert, v.zaehler::DOUBLE AS zaehler,"  # noqa: S608 - fixed names
            f" v.nenner::DOUBLE AS nenner FROM {query.current_source(con)} v"  # today's areas (Gebietsstände)
            " JOIN _hw_inds i ON i.indikator_id = v.indikator_id"
            " JOIN _hw_areas a ON a.sozialraum_id = v.sozialraum_id WHERE v.jahr IN (SELECT unnest(?))",
            [[int(y) for y in years]]).fetchnumpy()
    finally:
        cur.close()
    ii, aa = np.asarray(got["ii"], dtype=np.int64), np.asarray(got["aa"], dtype=np.int64)
    yy = np.asarray(got["jahr"], dtype=np.int64) - y0
    out = []
    for col in ("wert", "zaehler", "nenner"):
        arr = np.full(shape, np.nan)
        arr[ii, aa, yy] = np.ma.filled(np.ma.asarray(got[col], dtype=float), np.nan)
        out.append(arr)
    return _Cube(ids, areas, y0, *out)


def _cube(values: pd.DataFrame, ids: list[str], areas: np.ndarray, years: list[int]) -> _Cube:
    y0 = min(years)
    shape = (len(ids), len(areas), max(years) - y0 + 1)
    ii = pd.Index(ids, dtype=object).get_indexer(np.asarray(values["indikator_id"], dtype=object))
    aa = pd.Index(list(areas), dtype=object).get_indexer(np.asarray(values["sozialraum_id"], dtype=object))
    yy = values["jahr"].to_numpy(dtype=np.int64) - y0
    ok = (ii >= 0) & (aa >= 0) & (yy >= 0) & (yy < shape[2])
    out = []
    for col in ("wert", "zaehler", "nenner"):
        arr = np.full(shape, np.nan)
        arr[ii[ok], aa[ok], yy[ok]] = pd.to_numeric(values[col], errors="coerce").to_numpy(dtype=float)[ok]
        out.append(arr)
    return _Cube(ids, areas, y0, *out)


# --------------------------------------------------------------------------------------------
# the rules (vectorised over the areas of one indicator and year)


def _worse(delta: np.ndarray, richtung) -> np.ndarray:
    if richtung == "higher":
        return np.where(delta > 0, True, False).astype(object)
    if richtung == "lower":
        return np.where(delta < 0, True, False).astype(object)
    return np.full(len(delta), None, dtype=object)


def rule_schwelle(new: np.ndarray, old: np.ndarray, schwelle: float, richtung) -> tuple[np.ndarray, np.ndarray]:
    """(crossed into the need side, crossed back) per area."""
    if richtung == "lower":
        into, back = (old >= schwelle) & (new < schwelle), (old < schwelle) & (new >= schwelle)
    else:
        into, back = (old <= schwelle) & (new > schwelle), (old > schwelle) & (new <= schwelle)
    return into & np.isfinite(old) & np.isfinite(new), back & np.isfinite(old) & np.isfinite(new)


def rule_trend(history: np.ndarray, new: np.ndarray, se_new: np.ndarray, k_sd: float = TREND_SD
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear fit to ``history`` (areas x TREND_YEARS, oldest first, all present), extended one year.

    Returns (prediction, half-width of the band, outside?)."""
    n = history.shape[1]
    x = np.arange(n, dtype=float) - (n - 1) / 2.0          # centred years
    x_new = (n - 1) / 2.0 + 1.0
    ybar = history.mean(axis=1)
    slope = (history - ybar[:, None]) @ x / float(x @ x)
    fitted = ybar[:, None] + slope[:, None] * x[None, :]
    sd = np.sqrt(((history - fitted) ** 2).sum(axis=1) / (n - 2))
    pred = ybar + slope * x_new
    half = k_sd * np.fmax(sd, np.nan_to_num(se_new, nan=0.0))
    complete = np.isfinite(history).all(axis=1) & np.isfinite(new)
    outside = complete & (half > 0) & (np.abs(new - pred) > half)
    return pred, half, outside


def _se(cube: _Cube, i: int, year: int, unit) -> np.ndarray:
    w, z, n = cube.at(cube.wert, i, year), cube.at(cube.zaehler, i, year), cube.at(cube.nenner, i, year)
    if units.is_count(unit):
        return np.sqrt(np.where(np.isfinite(n), np.nan, np.abs(w)))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = z / n
        return np.sqrt(p * (1 - p) / n) * units.rate_factor(unit)


def _p_text(p: float) -> str:
    return "p < 0,001" if p < 0.001 else f"p = {fmt.number(p, 3)}"


def _indicator_hinweise(cube: _Cube, i: int, year: int, meta: dict, names: dict) -> list[Hinweis]:
    unit, richtung, name = meta.get("einheit"), meta.get("richtung"), meta.get("kurzname") or meta.get("name")
    richtung = richtung if richtung in ("higher", "lower") else None
    iid = cube.ids[i]
    new, old = cube.at(cube.wert, i, year), cube.at(cube.wert, i, year - 1)
    d = fmt.decimals_for(unit, meta.get("dezimalstellen"))  # the indicator's decimals (catalogue)
    out: list[Hinweis] = []
    areas = cube.areas

    def add(j, art, alt, neu, text, schlechter, staerke):
        out.append(Hinweis(str(areas[j]), iid, int(year), art, alt, neu, text, names.get(str(areas[j]), ""), None,
                           schlechter, float(staerke)))

    s = meta.get("schwelle")
    if s is not None and np.isfinite(s):
        into, back = rule_schwelle(new, old, float(s), richtung)
        word_up = "unterschritten" if richtung == "lower" else "überschritten"
        for j in np.nonzero(into | back)[0]:
            crossed = bool(into[j])
            what = f"Schwelle {fmt.value(s, unit, d)} {word_up}" if crossed else f"wieder auf der anderen Seite der Schwelle {fmt.value(s, unit, d)}"
            add(j, "schwelle", old[j], new[j],
                f"{name} {year}: {fmt.value(new[j], unit, d)} – {what} (Vorjahr {fmt.value(old[j], unit, d)}).",
                crossed, abs(new[j] - s) / (abs(s) or 1.0))
    new_f = cube.at(cube.wert, i, year).copy()
    hist = np.stack([cube.at(cube.wert, i, year - k) for k in range(TREND_YEARS, 0, -1)], axis=1)
    pred, half, outside = rule_trend(hist, new_f, _se(cube, i, year, unit))
    worse_t = _worse(new_f - pred, richtung)
    for j in np.nonzero(outside)[0]:
        side = "über" if new_f[j] > pred[j] else "unter"
        add(j, "trendbruch", pred[j], new_f[j],
            f"{name} {year}: {fmt.value(new_f[j], unit, d)} liegt {side} dem Bereich, den die Jahre {year - TREND_YEARS}–"
            f"{year - 1} erwarten lassen ({fmt.number(pred[j] - half[j], d)}–{fmt.number(pred[j] + half[j], d)}: lineare "
            f"Fortschreibung ± 2 Standardabweichungen der Reste).", worse_t[j], abs(new_f[j] - pred[j]) / half[j])
    cur = pd.DataFrame({"wert": new, "zaehler": cube.at(cube.zaehler, i, year), "nenner": cube.at(cube.nenner, i, year)})
    prev = pd.DataFrame({"wert": old, "zaehler": cube.at(cube.zaehler, i, year - 1),
                         "nenner": cube.at(cube.nenner, i, year - 1)})
    p = uncertainty.change_test(cur, prev, unit)
    sig = np.isfinite(p) & (p < uncertainty.ALPHA) & np.isfinite(new) & np.isfinite(old)
    worse_a = _worse(new - old, richtung)
    method = uncertainty.COUNT_TEST_METHOD if units.is_count(unit) else uncertainty.TEST_METHOD
    for j in np.nonzero(sig)[0]:
        add(j, "auffaellig", old[j], new[j],
            f"{name}: {fmt.value(old[j], unit, d)} ({year - 1}) → {fmt.value(new[j], unit, d)} ({year}), "
            f"{fmt.change(new[j] - old[j], unit, d)} – auffällig ({method}, {_p_text(p[j])}).",
            worse_a[j], -np.log10(max(p[j], 1e-300)))
    return out


# --------------------------------------------------------------------------------------------
# class changes of the saved index methods


def _years_of(con, ids: list[str]) -> list[int]:
    """Years with values of ``ids`` from active Lieferungen (the table, not the view of current values: the
    same years, a tenth of the cost at millions of values)."""
    rows = con.cursor().execute(
        "SELECT DISTINCT jahr FROM messwert WHERE list_contains(?, indikator_id)"
        " AND lieferung_id IN (SELECT id FROM lieferung WHERE status = 'aktiv') ORDER BY jahr", [list(ids)]).fetchall()
    return [int(r[0]) for r in rows]


def class_changes(con, ids_in_scope: set[str] | None, names: dict, *, actor: Actor,
                  memo: dict | None = None) -> list[Hinweis]:
    """``klassenwechsel`` for each saved method whose indicators are in scope: its two latest years.

    ``memo``: a dict kept by the caller across several calls on unchanged data (e.g. storing the Hinweise of
    several Lieferungen at once): each method's changes are computed once per view."""
    if memo is None:
        memo = {}
    out: list[Hinweis] = []
    for m in _methods(con):
        if ids_in_scope is not None and not set(m.indicator_ids) & ids_in_scope:
            continue
        key = (m.name, tuple(m.indicator_ids), actor.can_see_raw)
        if key not in memo:
            memo[key] = _method_changes(con, m, names, actor=actor)
        out += memo[key]
    return out


def _methods(con) -> list:
    from quartier.need import method as need_method

    return list(need_method.methods(con)["methode"])


def _method_changes(con, m, names: dict, *, actor: Actor) -> list[Hinweis]:
    from quartier.need import compute as need_compute

    out: list[Hinweis] = []
    years = _years_of(con, m.indicator_ids)
    if len(years) < 2:
        return out
    y1, y0 = years[-1], years[-2]
    both = need_compute.compute_years(con, m, [y0, y1], with_robustness=False, actor=actor)  # one read
    new, old = both[y1], both[y0]
    new_ids = np.asarray(new.areas["id"].astype(str).to_numpy(dtype=object))
    k_old = pd.Series(np.asarray(old.klass, dtype=float),
                      index=np.asarray(old.areas["id"].astype(str).to_numpy(dtype=object)))
    ka = k_old.reindex(new_ids).fillna(-1).to_numpy(dtype=np.int64)
    kb = np.asarray(new.klass, dtype=float)
    kb = np.where(np.isfinite(kb), kb, -1).astype(np.int64)
    for j in np.nonzero((ka >= 0) & (kb >= 0) & (ka != kb))[0]:  # only the areas whose class changed
        aid, a, b = str(new_ids[j]), int(ka[j]), int(kb[j])
        alt, neu = m.classes[a], m.classes[b]
        out.append(Hinweis(aid, m.name, int(y1), "klassenwechsel", alt, neu,
                           f"Handlungsbedarf ({m.name}) {y1}: Klasse „{neu}“ statt „{alt}“ ({y0}).",
                           names.get(aid, ""), None, b > a, float(abs(b - a))))
    return out


# --------------------------------------------------------------------------------------------
# entry point


def hinweise(con, *, actor: Actor, lieferung: int | None = None, seit: str | dt.datetime | None = None,
             bezirk: str | None = None, kinds: tuple[str, ...] = KINDS, memo: dict | None = None) -> list[Hinweis]:
    """All Hinweise in scope (see module doc), sorted by importance, as ``actor`` may see them.

    ``memo``: see :func:`class_changes` (only for several calls on unchanged data)."""
    bez_id = resolve_bezirk(con, bezirk)
    lief = scope_lieferungen(con, lieferung, seit)
    pairs = _pairs(con, lief)
    area_df = indicators.areas(con)
    names = dict(zip(area_df["id"].astype(str), area_df["name"].astype(str)))
    bez_of = dict(zip(area_df["id"].astype(str), area_df["bezirk_id"]))
    out: list[Hinweis] = []
    cat = indicators.catalogue(con).set_index("id")
    pairs = pairs[pairs["indikator_id"].isin(cat.index)]
    ids = sorted(pairs["indikator_id"].astype(str).unique())
    if ids and set(kinds) - {"klassenwechsel"}:
        need_years = sorted({int(y) - k for y in pairs["jahr"] for k in range(TREND_YEARS + 1)})
        areas = np.array(sorted(names))
        if bez_id is not None:
            areas = np.array([a for a in areas if bez_of.get(a) == bez_id])
        if actor.can_see_raw:
            cube = _raw_cube(con, ids, areas, need_years)
        else:
            cube = _cube(_load(con, ids, need_years, actor), ids, areas, need_years)
        for r in pairs.sort_values(["indikator_id", "jahr"]).to_dict("records"):
            meta = cat.loc[r["indikator_id"]].to_dict()
            sch = meta.get("schwelle")
            meta["schwelle"] = None if sch is None or pd.isna(sch) else float(sch)
            out += _indicator_hinweise(cube, ids.index(r["indikator_id"]), int(r["jahr"]), meta, names)
    if "klassenwechsel" in kinds:
        scope_ids = None if lief is None else set(pairs["indikator_id"].astype(str))
        out += [dataclasses.replace(h) for h in class_changes(con, scope_ids, names, actor=actor, memo=memo)]
    out = [h for h in out if h.art in kinds and (bez_id is None or bez_of.get(h.sozialraum) == bez_id)]
    for h in out:
        h.bezirk_id = bez_of.get(h.sozialraum)
    return sorted(out, key=sort_key)


def to_json(items: list[Hinweis]) -> list[dict]:
    return [h.to_json() for h in items]


def frame(items: list[Hinweis]) -> pd.DataFrame:
    """A table for the surfaces: Sozialraum, Kennzahl, Jahr, Art, alt, neu, Hinweis (text), link target."""
    return pd.DataFrame([{"sozialraum_id": h.sozialraum, "sozialraum": h.sozialraum_name, "indikator": h.indikator,
                          "jahr": h.jahr, "art": KIND_LABEL[h.art], "alt": h.alt, "neu": h.neu, "text": h.text,
                          "schlechter": h.schlechter} for h in items],
                        columns=["sozialraum_id", "sozialraum", "indikator", "jahr", "art", "alt", "neu", "text",
                                 "schlechter"])
