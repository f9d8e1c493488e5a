"""Handlungsbedarf index: a transparent, reproducible ranking of need per Sozialraum.

Methods
-------
``zscore`` (status index as in Berlin's Monitoring Soziale Stadtentwicklung / Hamburg's Sozialmonitoring):
rate per indicator (numerator/denominator where delivered, else the delivered value), oriented so that a
higher value always means more need, z-standardised over the Sozialräume that take part (mean and
population standard deviation), weighted mean (the weight of a missing or suppressed value is spread
proportionally over the area's other indicators), the result standardised again. Classes by ``cutoffs``.

``points``: per indicator quintile points 1–5 (or rank points scaled to 1–5, ``points_scheme: "rank"``),
weighted mean with the same weight rule. Classes by ``cutoffs`` on the 1–5 scale.

Dynamics: the same procedure on the change of every indicator between two years (in the indicator's
unit, e.g. percentage points), classes by ``dynamics_cutoffs``.

Rules: areas below ``min_population`` (population indicator in the index year) take no part ("zu klein");
areas missing more than ``max_missing_share`` of the indicators get no class ("nicht bewertbar"); areas
that take no part are left out of every mean and standard deviation. A value exactly on a cut-off
belongs to the class nearer to 0 (z-scale) – for cut-offs ≥ 0 the lower class, for cut-offs < 0 the upper.

The array maths are in :mod:`quartier.need.scoring`; this module loads the values and builds the
:class:`IndexResult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from quartier import db
from quartier.access import Actor
from quartier.need.method import IndexMethod, dynamics_span, validate_method
from quartier.need.scoring import classify, composite, indicator_scores, min_ranks, robustness
from quartier.values import coverage, indicators, protection, query

ROUND = 6

FLAG_TOO_SMALL = "zu klein"
FLAG_NO_POPULATION = "keine Einwohnerzahl"
FLAG_NOT_RATED = "nicht bewertbar"
FLAG_MISSING = "fehlt"
FLAG_SUPPRESSED = "gesperrt"
FLAG_SINGLE = "Klasse hängt an einem Indikator"
FLAG_NO_DYNAMICS = "Dynamik nicht bewertbar"

PUBLIC_KEY, HIDDEN_KEY = "oeffentlich", "geschuetzte_zellen"


def protection_note(result: IndexResult) -> str | None:
    """The German sentence a viewer's page, PDF and export carry; None for a result from the raw values."""
    if not result.public:
        return None
    n = len(result.hidden_cells)
    values = "geschützter Wert zählt" if n == 1 else "geschützte Werte zählen"
    return (f"Für Betrachtende ist der Index aus den geschützten Werten berechnet: {n} {values} als fehlend "
            "(ihr Gewicht ist wie bei jedem fehlenden Wert auf die übrigen Indikatoren verteilt). Werte, Ränge, "
            "Klassen, Beiträge, Dynamik und Robustheit können daher von der Fassung der Fachplanung abweichen.")


# --------------------------------------------------------------------------------------------
# Data


def load_values(con, indicator_ids: list[str], years: list[int], lieferung_ids: list[int] | None = None) -> pd.DataFrame:
    """Values of ``indicator_ids`` in ``years``: the current ones, or – for reproduction – the newest among
    exactly the Lieferungen ``lieferung_ids`` (whatever their status today)."""
    params = [list(indicator_ids), [int(y) for y in years]]
    if lieferung_ids is None:
        src = query.current_source(con)  # values on today's areas (across a change of Gebietsstand)
    else:
        src = (
            "(SELECT * FROM messwert WHERE lieferung_id IN (SELECT unnest(?))"
            " QUALIFY row_number() OVER (PARTITION BY indikator_id, sozialraum_id, jahr ORDER BY lieferung_id DESC) = 1)"
        )
        params.insert(0, [int(i) for i in lieferung_ids])
    return db.query_df(
        con,
        f"SELECT indikator_id, sozialraum_id, jahr, wert, zaehler, nenner, gesperrt, lieferung_id FROM {src} v"  # noqa: S608 - fixed text
        " WHERE indikator_id IN (SELECT unnest(?)) AND jahr IN (SELECT unnest(?))",
        params,
    )


def load_values_for(con, indicator_ids: list[str], years: list[int], lieferung_ids: list[int] | None = None, *,
                    actor: Actor) -> pd.DataFrame:
    """:func:`load_values` as ``actor`` may see them: raw for actors with the right to raw values, otherwise
    with small-number protection (protected cells ``gesperrt``, without value and numerator) – exactly the
    cells :func:`quartier.values.indicators.current_values` shows a viewer."""
    if actor.can_see_raw:
        return load_values(con, indicator_ids, years, lieferung_ids)
    cols = ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt", "lieferung_id"]
    if lieferung_ids is None:
        return indicators.current_values(con, indicator_ids, years, actor=actor)[cols].reset_index(drop=True)
    raw = load_values(con, indicator_ids, years, lieferung_ids)
    bez = db.query_df(con, "SELECT id AS sozialraum_id, bezirk_id FROM sozialraum")
    raw = raw.merge(bez, on="sozialraum_id", how="left")
    # the row order of query.current_raw (secondary suppression breaks ties by position)
    raw = raw.sort_values(["indikator_id", "bezirk_id", "sozialraum_id", "jahr"], kind="stable", na_position="last")
    return protection.protect(con, raw.reset_index(drop=True))[cols]


def rates(values: pd.DataFrame, units: dict[str, str | None]) -> pd.Series:
    """Rate per row: numerator/denominator × unit factor where both are delivered, else the value;
    NaN where suppressed at source."""
    codes, uniques = pd.factorize(values["indikator_id"])
    factor = np.array([indicators.rate_factor(units.get(u)) for u in uniques] + [1.0])[codes]
    num = values["zaehler"].to_numpy(dtype=float, na_value=np.nan)
    den = values["nenner"].to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(num) & ~np.isnan(den) & (den > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ok, num / np.where(ok, den, 1.0) * factor, values["wert"].to_numpy(dtype=float, na_value=np.nan))
    r = np.where(values["gesperrt"].fillna(False).to_numpy(dtype=bool), np.nan, r)
    return pd.Series(r, index=values.index, dtype=float)


def wide(values: pd.DataFrame, rate: pd.Series, area_ids: list[str], indicator_ids: list[str], year: int):
    """(rates n×K, suppressed n×K) for one year; NaN where nothing was delivered."""
    return wide_years(values, rate, area_ids, indicator_ids, [year])[year]


def wide_years(values: pd.DataFrame, rate: pd.Series, area_ids: list[str], indicator_ids: list[str],
               years: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{year: (rates n×K, suppressed n×K)}; the row positions are looked up once for all years."""
    n, k = len(area_ids), len(indicator_ids)
    ai = pd.Index(area_ids).get_indexer(values["sozialraum_id"])
    ki = pd.Index(indicator_ids).get_indexer(values["indikator_id"])
    jahr = values["jahr"].to_numpy()
    r = rate.to_numpy()
    sup = values["gesperrt"].fillna(False).to_numpy(dtype=bool)
    ok = (ai >= 0) & (ki >= 0)
    out = {}
    for y in years:
        X = np.full((n, k), np.nan)
        S = np.zeros((n, k), dtype=bool)
        sel = ok & (jahr == y)
        X[ai[sel], ki[sel]] = r[sel]
        S[ai[sel], ki[sel]] = sup[sel]
        out[int(y)] = (X, S)
    return out



# --------------------------------------------------------------------------------------------
# Result


@dataclass
class IndexResult:
    method: IndexMethod
    year: int
    data_state: list[int]
    areas: pd.DataFrame            # id, name (in computation order)
    indicator_ids: list[str]
    value: np.ndarray
    klass: np.ndarray             # class index, -1 none
    rank: np.ndarray
    dyn_value: np.ndarray
    dyn_klass: np.ndarray
    contributions: np.ndarray     # n×K
    scores: np.ndarray            # z-scores or points n×K
    rates: np.ndarray             # raw rates n×K (index year)
    changes: np.ndarray           # indicator changes n×K (dynamics years)
    flags: list[list[str]]
    robust: dict | None = None
    dynamics_years: tuple[int, int] | None = None
    extra: dict = field(default_factory=dict)

    @property
    def public(self) -> bool:
        """Computed from the protected values (what a viewer may see), not from the raw values."""
        return bool(self.extra.get(PUBLIC_KEY))

    @property
    def hidden_cells(self) -> set[tuple[str, str]]:
        """(sozialraum_id, indikator_id) protected in the index year of a :attr:`public` result."""
        return set(self.extra.get(HIDDEN_KEY, ()))

    def to_json(self) -> dict:
        """The object ``python -m quartier index --json`` prints (and a stored result holds)."""
        m = self.method
        order = np.lexsort((np.arange(len(self.areas)), np.where(np.isnan(self.rank), np.inf, self.rank)))
        out = []
        for i in order:
            rated = self.klass[i] >= 0
            contrib = {}
            if rated:
                for j, iid in enumerate(self.indicator_ids):
                    c = self.contributions[i, j]
                    contrib[iid] = None if np.isnan(c) else _r(c)
            out.append({
                "id": self.areas["id"].iat[i],
                "name": self.areas["name"].iat[i],
                "value": _r(self.value[i]) if rated else None,
                "class": m.classes[self.klass[i]] if rated else None,
                "rank": int(self.rank[i]) if rated else None,
                "dynamics_value": _r(self.dyn_value[i]) if self.dyn_klass[i] >= 0 else None,
                "dynamics_class": m.dynamics_classes[self.dyn_klass[i]] if self.dyn_klass[i] >= 0 else None,
                "contributions": contrib,
                "flags": list(self.flags[i]),
            })
        return {"method": m.to_dict(), "year": int(self.year), "data_state": list(self.data_state), "sozialraeume": out}


def _r(v) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or (hasattr(v, "dtype") and np.isnan(v)):
        return None
    x = round(float(v), ROUND)
    return 0.0 if x == 0 else x


def _flags(m: IndexMethod, year: int, population, masks: dict, suppressed: np.ndarray, rob: dict | None) -> list[list[str]]:
    """The German notes per area (too small, no population, missing/suppressed values, not rated, ...)."""
    ids = m.indicator_ids
    miss, n_miss, k = masks["miss"], masks["miss"].sum(axis=1), masks["miss"].shape[1]
    flags: list[list[str]] = [[] for _ in range(len(miss))]
    special = (masks["too_small"] | masks["pop_missing"] | (n_miss > 0) | masks["not_rated"] | masks["no_dyn"]
               | masks["single"])
    for i in np.flatnonzero(special).tolist():
        f = flags[i]
        if masks["too_small"][i]:
            f.append(f"{FLAG_TOO_SMALL}: {_int(population[i])} Einwohner (Mindestzahl {_int(m.min_population)})")
            continue
        if masks["pop_missing"][i]:
            f.append(f"{FLAG_NOT_RATED}: {FLAG_NO_POPULATION} für {year} ({m.population_indicator})")
            continue
        for j in np.flatnonzero(miss[i]).tolist():
            f.append(f"{FLAG_SUPPRESSED if suppressed[i, j] else FLAG_MISSING}: {ids[j]}")
        if masks["not_rated"][i]:
            f.append(f"{FLAG_NOT_RATED}: {int(n_miss[i])} von {k} Indikatoren fehlen (höchstens {_pct(m.max_missing_share)})")
            continue
        if masks["no_dyn"][i]:
            f.append(FLAG_NO_DYNAMICS)
        if masks["single"][i]:
            names = ", ".join(ids[j] for j in np.flatnonzero(rob["class_changes"][i]).tolist())
            f.append(f"{FLAG_SINGLE}: {names}")
    return flags


def _dynamics(m: IndexMethod, D: np.ndarray, signs: np.ndarray, w: np.ndarray, part: np.ndarray):
    """(dynamics value, dynamics class) from the indicator changes ``D``."""
    n, k = D.shape
    dyn_v, dyn_k = np.full(n, np.nan), np.full(n, -1)
    dmiss = np.isnan(D).sum(axis=1) / max(k, 1)
    drated = part & (dmiss <= m.max_missing_share + 1e-12)
    if drated.any():
        ZD = indicator_scores(D, signs, drated, m.kind, m.scheme)
        dyn_v, _ = composite(ZD, w, drated, m.kind)
        dyn_k = np.where(~np.isnan(dyn_v), classify(dyn_v, list(m.dynamics_cutoffs)), -1)
    return dyn_v, dyn_k


def evaluate(method: IndexMethod, year: int, area_ids: list[str], area_names: list[str], X: np.ndarray,
             suppressed: np.ndarray, population: np.ndarray | None, X_from: np.ndarray | None = None,
             X_to: np.ndarray | None = None, data_state: list[int] | None = None, with_robustness: bool = True) -> IndexResult:
    """The index on arrays: ``X`` rates n×K in the index year (NaN = missing), ``suppressed`` n×K,
    ``population`` per area (NaN = unknown; None = no minimum-population rule), ``X_from``/``X_to`` the
    rates in the two dynamics years."""
    m = method
    w = np.array([i.weight for i in m.indicators], dtype=float)
    signs = np.array([1.0 if i.direction == "higher" else -1.0 for i in m.indicators])
    n, k = X.shape
    if population is not None:
        pop_missing = np.isnan(population)
        too_small = ~pop_missing & (population < float(m.min_population))
        part = ~pop_missing & ~too_small
    else:
        pop_missing = too_small = np.zeros(n, dtype=bool)
        part = np.ones(n, dtype=bool)
    miss = np.isnan(X)
    not_rated = part & (miss.sum(axis=1) / max(k, 1) > m.max_missing_share + 1e-12)
    rated = part & ~not_rated
    Z = indicator_scores(X, signs, rated, m.kind, m.scheme)
    V, contrib = composite(Z, w, rated, m.kind)
    rated = rated & ~np.isnan(V)
    klass = np.where(rated, classify(V, list(m.cutoffs)), -1)
    rank = min_ranks(np.where(rated, V, np.nan))
    dyn_v, dyn_k, D = np.full(n, np.nan), np.full(n, -1), np.full((n, k), np.nan)
    if X_from is not None and X_to is not None:
        D = X_to - X_from
        dyn_v, dyn_k = _dynamics(m, D, signs, w, part)
    rob = robustness(Z, w, rated, m.kind, list(m.cutoffs)) if with_robustness else None
    masks = {
        "miss": miss, "too_small": too_small, "pop_missing": pop_missing, "not_rated": not_rated,
        "no_dyn": rated & (dyn_k < 0) & (X_from is not None),
        "single": rob["class_changes"].any(axis=1) if rob is not None else np.zeros(n, dtype=bool),
    }
    flags = _flags(m, year, population, masks, suppressed, rob)
    return IndexResult(
        method=m, year=int(year), data_state=list(data_state or []),
        areas=pd.DataFrame({"id": list(area_ids), "name": list(area_names)}), indicator_ids=m.indicator_ids,
        value=V, klass=klass, rank=rank, dyn_value=dyn_v, dyn_klass=dyn_k, contributions=contrib, scores=Z,
        rates=X, changes=D, flags=flags, robust=rob,
        dynamics_years=dynamics_span(m, year) if X_from is not None else None,
    )


def _int(v) -> str:
    from quartier.format import integer

    return integer(v)


def _pct(v) -> str:
    from quartier.format import number

    return f"{number(v * 100, 0)} %"


# --------------------------------------------------------------------------------------------
# Computation from the database


def compute(con, method: IndexMethod | dict, year: int, lieferung_ids: list[int] | None = None,
            with_robustness: bool = True, *, actor: Actor) -> IndexResult:
    """The index for ``year`` from the current values (or from exactly ``lieferung_ids``).

    ``method`` is validated against the catalogue (a JSON-form dict is accepted). ``actor`` is who looks:
    actors with the right to raw values get the index from the delivered values; for everyone else it is
    computed from the protected values (every figure a viewer sees is derived from what the viewer may
    see): a protected cell counts as missing, its weight is spread like that of any missing value
    (otherwise its contribution, a straight line in the hidden rate, would give the value away). Such a
    result is :attr:`IndexResult.public`; :func:`protection_note` says so in German."""
    return compute_years(con, method, [int(year)], lieferung_ids, with_robustness, actor=actor)[int(year)]


def compute_years(con, method: IndexMethod | dict, years: list[int], lieferung_ids: list[int] | None = None,
                  with_robustness: bool = True, *, actor: Actor) -> dict[int, IndexResult]:
    """:func:`compute` for several years from one read of the values (e.g. the two latest years)."""
    cat = indicators.catalogue(con)
    m = validate_method(method, cat)
    units = dict(zip(cat["id"], cat["einheit"]))
    ids = m.indicator_ids
    spans = {int(y): dynamics_span(m, int(y)) for y in years}
    need = sorted({y for y in spans} | {v for s in spans.values() for v in s})
    pop_id = m.population_indicator
    vals = load_values_for(con, ids + ([pop_id] if pop_id and pop_id not in ids else []), need, lieferung_ids,
                           actor=actor)
    areas = db.query_df(con, "SELECT id, name FROM sozialraum ORDER BY id")
    area_ids = list(areas["id"])
    mats = wide_years(vals, rates(vals, units), area_ids, ids, need)
    out = {}
    for year, (y0, y1) in spans.items():
        X, S = mats[year]
        Xf, Xt = mats[y0][0], mats[y1][0]
        pop = None
        if pop_id:
            pv = vals[(vals["indikator_id"] == pop_id) & (vals["jahr"] == year)]
            pop = pd.Series(pv["wert"].astype(float).to_numpy(), index=pv["sozialraum_id"]).reindex(area_ids).to_numpy(dtype=float)
        yv = vals[vals["jahr"].isin({year, y0, y1})]
        used = yv[yv["sozialraum_id"].isin(area_ids)]
        used_pop = used["indikator_id"] == pop_id
        used = used[~used_pop | (used["jahr"] == year)]
        state = sorted(int(x) for x in used["lieferung_id"].unique())
        res = evaluate(m, year, area_ids, list(areas["name"]), X, S, pop, Xf, Xt, state, with_robustness)
        if not actor.can_see_raw:
            res.extra[PUBLIC_KEY] = True
            res.extra[HIDDEN_KEY] = sorted((area_ids[i], ids[j]) for i, j in zip(*np.nonzero(S)))
        out[year] = res
    return out


def years_available(con, method: IndexMethod | list[str]) -> list[int]:
    """Years in which at least one of the method's indicators (or of the indicator ids given) has values."""
    ids = method.indicator_ids if isinstance(method, IndexMethod) else list(method)
    return query.years(con, list(ids))  # on today's areas (values of earlier Gebietsstände re-allocated)


def incomplete_years(con, ids: list[str], years: list[int]) -> dict[int, list[tuple[str, int, int | None]]]:
    """For each of ``years`` in which the indicators ``ids`` are not all completely delivered
    (:mod:`quartier.values.coverage`): (indicator id, areas delivered, areas expected) of the missing parts;
    an indicator without any value that year is (id, 0, None). Complete years are left out.

    A ranking of such a year would compare areas with and without the indicator: the page does not rank it."""
    cov = coverage.coverage(con, list(ids), [int(y) for y in years])
    city = cov[cov["stadtbezirk_id"].isna()].set_index(["indikator_id", "jahr"])
    out: dict[int, list[tuple[str, int, int | None]]] = {}
    for y in years:
        gaps: list[tuple[str, int, int | None]] = []
        for iid in ids:
            if (iid, int(y)) not in city.index:
                gaps.append((iid, 0, None))
                continue
            d, t = int(city.loc[(iid, int(y)), "gebiete_geliefert"]), int(city.loc[(iid, int(y)), "gebiete_gesamt"])
            if not coverage.is_complete(d, t):
                gaps.append((iid, d, t))
        if gaps:
            out[int(y)] = gaps
    return out


def previous_year(con, method: IndexMethod, year: int, *, actor: Actor) -> IndexResult | None:
    """The same method one year earlier, when that year has values."""
    if int(year) - 1 not in years_available(con, method):
        return None
    return compute(con, method, int(year) - 1, with_robustness=False, actor=actor)
