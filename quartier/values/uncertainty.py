"""Uncertainty of rates and counts: 95 % intervals, the test for "auffällige" changes, small bases.

Intervals
    *Shares and rates with numerator and denominator* (``%``, ``je 1.000`` …): the Wilson score interval
    for the underlying proportion numerator/denominator, scaled by the unit's factor
    (:func:`quartier.units.rate_factor`). It stays inside 0…100 % and behaves well for small numerators.
    *Counts without denominator* (unit Anzahl, Personen, Fälle): the exact (Garwood) Poisson interval
    from the chi-square distribution: ``chi2(α/2; 2k)/2`` to ``chi2(1−α/2; 2k+2)/2``.
    No interval where numerator or denominator is missing or protected, the denominator is 0, the
    numerator exceeds the denominator (not a proportion) or a count is not a whole number.

Test
    A change between two years (or a difference between two areas) counts as **auffällig** when the
    two-sided two-proportion z-test with pooled variance rejects equality at 5 % (:data:`TEST_METHOD`).
    For counts without denominator the two counts are compared with the exact conditional binomial test
    of two Poisson counts (:data:`COUNT_TEST_METHOD`).

Small bases
    A rate on fewer than ``kleine_basis`` people (setting, default 100) is flagged in words
    ("kleine Basis: 38"), because its interval is wide.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from quartier import format as fmt
from quartier import settings, units

ALPHA = 0.05
Z95 = float(stats.norm.ppf(1 - ALPHA / 2))
TEST_METHOD = "Zwei-Stichproben-z-Test für Anteile (gepoolte Varianz, zweiseitig, 5 %)"
COUNT_TEST_METHOD = "exakter bedingter Binomialtest zweier Poisson-Zählungen (zweiseitig, 5 %)"
INTERVAL_METHOD = "95-%-Konfidenzintervall (Wilson-Score für Anteile, exakt nach Poisson für Anzahlen)"
SMALL_BASE = settings.SMALL_BASE


def _arr(x) -> np.ndarray:
    return np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(np.asarray(x, dtype=object))), errors="coerce"),
                      dtype=float)


def wilson(k, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of the proportion k/n (arrays); NaN where 0 <= k <= n, n > 0 does not hold."""
    k, n = _arr(k), _arr(n)
    ok = np.isfinite(k) & np.isfinite(n) & (n > 0) & (k >= 0) & (k <= n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2 = z * z
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = z / (1 + z2 / n) * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
        lo, hi = np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def poisson_exact(k, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson mean from one count k (arrays); NaN for non-whole or negative k."""
    k = _arr(k)
    ok = np.isfinite(k) & (k >= 0) & (np.abs(k - np.round(k)) < 1e-9)
    kk = np.where(ok, np.round(k), 0.0)
    lo = np.where(kk > 0, stats.chi2.ppf(alpha / 2, 2 * kk) / 2, 0.0)
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * kk + 2) / 2
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def interval(wert, zaehler, nenner, unit) -> tuple[np.ndarray, np.ndarray]:
    """95 % interval in the indicator's unit for each row (NaN where none applies, see module doc)."""
    wert, zaehler, nenner = _arr(wert), _arr(zaehler), _arr(nenner)
    if units.is_count(unit):
        has_den = np.isfinite(nenner)
        lo, hi = poisson_exact(np.where(has_den, np.nan, wert))
        return lo, hi
    f = units.rate_factor(unit)
    lo, hi = wilson(zaehler, nenner)
    return lo * f, hi * f


def interval_frame(values: pd.DataFrame, unit_of: dict[str, str | None]) -> tuple[np.ndarray, np.ndarray]:
    """Intervals for a frame with ``indikator_id, wert, zaehler, nenner`` (several indicators)."""
    lo = np.full(len(values), np.nan)
    hi = np.full(len(values), np.nan)
    if values.empty:
        return lo, hi
    ind = values["indikator_id"].to_numpy()
    for iid in pd.unique(ind):
        m = ind == iid
        part = values.loc[m]
        lo[m], hi[m] = interval(part["wert"], part["zaehler"], part["nenner"], unit_of.get(iid))
    return lo, hi


def two_proportion_test(k1, n1, k2, n2) -> tuple[np.ndarray, np.ndarray]:
    """(z, two-sided p) of the pooled two-proportion z-test k1/n1 vs k2/n2 (arrays; NaN where not testable)."""
    k1, n1, k2, n2 = _arr(k1), _arr(n1), _arr(k2), _arr(n2)
    ok = (np.isfinite(k1) & np.isfinite(n1) & np.isfinite(k2) & np.isfinite(n2) & (n1 > 0) & (n2 > 0)
          & (k1 >= 0) & (k2 >= 0) & (k1 <= n1) & (k2 <= n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (k1 + k2) / (n1 + n2)
        se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
        z = np.where(se > 0, (k1 / n1 - k2 / n2) / se, 0.0)
    pval = 2 * stats.norm.sf(np.abs(z))
    return np.where(ok, z, np.nan), np.where(ok, pval, np.nan)


def poisson_test(k1, k2) -> np.ndarray:
    """Two-sided p of the exact conditional test of two Poisson counts (k1 | k1+k2 ~ Bin(k1+k2, 1/2))."""
    k1, k2 = _arr(k1), _arr(k2)
    ok = np.isfinite(k1) & np.isfinite(k2) & (k1 >= 0) & (k2 >= 0)
    out = np.full(len(k1), np.nan)
    for i in np.nonzero(ok)[0]:
        n = int(round(k1[i] + k2[i]))
        out[i] = 1.0 if n == 0 else float(stats.binomtest(int(round(k1[i])), n, 0.5).pvalue)
    return out


def change_test(new: pd.DataFrame, old: pd.DataFrame, unit) -> np.ndarray:
    """Two-sided p-value of the change old -> new, row by row (frames with ``wert, zaehler, nenner``).

    Rates: the two-proportion z-test; counts without denominator: the Poisson test; NaN when not testable."""
    if units.is_count(unit):
        return poisson_test(old["wert"], new["wert"])
    return two_proportion_test(new["zaehler"], new["nenner"], old["zaehler"], old["nenner"])[1]


def auffaellig(p) -> np.ndarray:
    """Object array: True (p < 5 %), False, None (not testable)."""
    p = _arr(p)
    return np.array([None if not np.isfinite(x) else bool(x < ALPHA) for x in p], dtype=object)


def small_base(nenner, limit: int) -> np.ndarray:
    n = _arr(nenner)
    return np.isfinite(n) & (n > 0) & (n < limit)


def small_base_text(nenner, nenner_def: str | None = None) -> str:
    """'kleine Basis: 38 Kinder unter 15' (the denominator's definition when the catalogue has one)."""
    what = f" {nenner_def}" if nenner_def and not (isinstance(nenner_def, float) and math.isnan(nenner_def)) else ""
    return f"kleine Basis: {fmt.integer(nenner)}{what}"


def text(value, lo, hi, unit: str | None, decimals: int | None = None) -> str:
    """'12,4 % (9,8–15,5)'; without interval only the value ('12,4 %'); ``decimals``: the indicator's."""
    d = fmt.decimals_for(unit) if decimals is None else decimals
    base = fmt.value(value, unit, d)
    if fmt._is_missing(value) or fmt._is_missing(lo) or fmt._is_missing(hi):
        return base
    return f"{base} ({fmt.number(lo, d)}–{fmt.number(hi, d)})"


def round_interval(lo: np.ndarray, hi: np.ndarray, digits: int = 4) -> tuple[np.ndarray, np.ndarray]:
    return np.round(lo, digits), np.round(hi, digits)


PROFILE_EXTRA = ["ki_unten", "ki_oben", "kleine_basis", "p_1", "auffaellig_1", "p_5", "auffaellig_5"]


def annotate_profile(prof: pd.DataFrame, values: pd.DataFrame, limit: int,
                     nenner_def: dict[str, str | None] | None = None, spans=(1, 5)) -> pd.DataFrame:
    """Add :data:`PROFILE_EXTRA` to a Steckbrief frame (one row per indicator: ``indikator_id, jahr, wert,
    zaehler, nenner, einheit``) from the area's series ``values`` (all years, as the viewer may see them):
    the 95 % interval, the small-base flag in words and, per span k, the p-value of the change against
    year − k and whether it is auffällig (True/False; None when not testable)."""
    out = prof.copy()
    lo = np.full(len(out), np.nan)
    hi = np.full(len(out), np.nan)
    for i, r in enumerate(out.to_dict("records")):
        lo[i], hi[i] = (a[0] for a in interval([r["wert"]], [r["zaehler"]], [r["nenner"]], r["einheit"]))
    out["ki_unten"], out["ki_oben"] = lo, hi
    small = small_base(out["nenner"], limit) & ~out["einheit"].map(units.is_count).to_numpy(dtype=bool)
    defs = nenner_def or {}
    out["kleine_basis"] = pd.Series([small_base_text(n, defs.get(iid)) if s else None
                                     for s, n, iid in zip(small, out["nenner"], out["indikator_id"])],
                                    index=out.index, dtype=object)
    v = values[["indikator_id", "jahr", "wert", "zaehler", "nenner"]].copy()
    v["jahr"] = pd.to_numeric(v["jahr"], errors="coerce")
    cur = out[["indikator_id", "jahr", "wert", "zaehler", "nenner", "einheit"]].copy()
    cur["jahr"] = pd.to_numeric(cur["jahr"], errors="coerce")
    for k in spans:
        old = cur[["indikator_id", "jahr"]].assign(jahr=cur["jahr"] - k).merge(v, on=["indikator_id", "jahr"], how="left")
        p = np.full(len(cur), np.nan)
        for unit, idx in cur.groupby(cur["einheit"].fillna(""), sort=False).groups.items():
            pos = cur.index.get_indexer(idx)
            p[pos] = change_test(cur.iloc[pos].reset_index(drop=True), old.iloc[pos].reset_index(drop=True), unit or None)
        out[f"p_{k}"] = p
        out[f"auffaellig_{k}"] = auffaellig(p)
    return out
