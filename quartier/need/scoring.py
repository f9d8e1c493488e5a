"""The index on arrays: per-indicator scores, weighted composite, classes, ranks and the robustness analysis.

Pure numpy; no database, no method objects (the caller passes ``kind``, weights and cut-offs).

Contributions: ``(w_i · z_i − mean over rated areas of w_i · z_i) / SD(sum)``, where ``w_i`` is the
area's effective (re-spread) weight share. With complete data the mean term is exactly 0, so a
contribution is weight × z / final SD; in every case the contributions add up to the index value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _col_stats(Xo: np.ndarray, P: np.ndarray):
    cnt = P.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(P, Xo, 0.0).sum(axis=0) / cnt
        var = np.where(P, (Xo - mean) ** 2, 0.0).sum(axis=0) / cnt
    return mean, np.sqrt(var)


def indicator_scores(X: np.ndarray, signs: np.ndarray, rated: np.ndarray, kind: str, scheme: str = "quintile") -> np.ndarray:
    """Per-indicator scores (z-scores, or points 1–5) over the rated areas; NaN where missing or not rated."""
    Xo = X * signs
    P = rated[:, None] & ~np.isnan(Xo)
    if kind == "zscore":
        mean, sd = _col_stats(Xo, P)
        with np.errstate(invalid="ignore", divide="ignore"):
            Z = np.where(sd > 0, (Xo - mean) / sd, 0.0)
        return np.where(P, Z, np.nan)
    # points: rank the oriented values within each indicator among the rated areas
    df = pd.DataFrame(np.where(P, Xo, np.nan))
    cnt = P.sum(axis=0)
    if scheme == "rank":
        r = df.rank(method="average").to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            pts = np.where(cnt > 1, 1 + 4 * (r - 1) / (cnt - 1), 3.0)
    else:
        pct = df.rank(method="average", pct=True).to_numpy()
        pts = np.clip(np.ceil(pct * 5 - 1e-9), 1, 5)
    return np.where(P, pts, np.nan)


def classify(values: np.ndarray, cutoffs: list[float]) -> np.ndarray:
    """Class index 0..len(cutoffs); -1 where NaN. On a cut-off: the class nearer to 0."""
    v = np.asarray(values, dtype=float)
    idx = np.zeros(v.shape, dtype=int)
    for c in cutoffs:
        idx += (v > c) if c >= 0 else (v >= c)
    return np.where(np.isnan(v), -1, idx)


def _finalise(S: np.ndarray, rated: np.ndarray, kind: str):
    """Final transform of the weighted sum(s) over the rated areas: standardise (zscore) or keep (points).

    Returns (values, mean, sd); values are NaN outside the rated areas."""
    P = rated.reshape(-1, *([1] * (S.ndim - 1))) & ~np.isnan(S)
    if kind != "zscore":
        return np.where(P, S, np.nan), None, None
    cnt = P.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(P, S, 0.0).sum(axis=0) / cnt
        sd = np.sqrt(np.where(P, (S - mean) ** 2, 0.0).sum(axis=0) / cnt)
        V = np.where(sd > 0, (S - mean) / sd, 0.0)
    return np.where(P, V, np.nan), mean, sd


def composite(Z: np.ndarray, weights: np.ndarray, rated: np.ndarray, kind: str):
    """Weighted mean of the scores (the weight of a missing value is spread proportionally over the
    area's other indicators), final transform, and contributions that add up to the value.

    zscore: contribution = share × (z − mean of the sums) / SD of the sums, where share is the area's
    effective weight share; with complete data the mean is 0, so it is weight × z / final SD.
    points: contribution = share × points. Missing values have no contribution (NaN).
    Returns (value, contributions n×K)."""
    A = ~np.isnan(Z)
    WA = A * weights
    den = WA.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = WA / den[:, None]
    part = np.where(A, share * np.nan_to_num(Z), 0.0)
    S = np.where(den > 0, part.sum(axis=1), np.nan)
    ok = rated & ~np.isnan(S)
    V, mean, sd = _finalise(S, ok, kind)
    if kind == "zscore":
        if not (sd is not None and sd > 0):
            contrib = np.where(A, 0.0, np.nan)
        else:
            contrib = np.where(A, share * (np.nan_to_num(Z) - mean) / sd, np.nan)
    else:
        contrib = np.where(A, part, np.nan)
    return V, np.where(ok[:, None], contrib, np.nan)


def min_ranks(V: np.ndarray) -> np.ndarray:
    """Competition ranks per column (1 = highest value, ties share the best rank), NaN stays NaN."""
    V2 = V if V.ndim == 2 else V[:, None]
    nan = np.isnan(V2)
    key = np.ascontiguousarray(np.where(nan, np.inf, -V2).T)   # rows = columns of V; NaN sorts last
    order = np.argsort(key, axis=1, kind="stable")
    sv = np.take_along_axis(key, order, axis=1)
    new_run = np.ones(sv.shape, dtype=bool)
    new_run[:, 1:] = sv[:, 1:] != sv[:, :-1]
    pos = np.arange(1, sv.shape[1] + 1, dtype=float)
    first = np.maximum.accumulate(np.where(new_run, pos, 0.0), axis=1)
    ranks = np.empty_like(first)
    np.put_along_axis(ranks, order, first, axis=1)
    ranks = ranks.T
    ranks[nan] = np.nan
    return ranks if V.ndim == 2 else ranks[:, 0]


def robustness(Z: np.ndarray, weights: np.ndarray, rated: np.ndarray, kind: str, cutoffs: list[float]) -> dict:
    """Rank ranges when one indicator at a time is left out and when each weight varies by ±50 %;
    for each area the indicators whose omission alone changes its class."""
    A = ~np.isnan(Z)
    WZ = np.where(A, Z * weights, 0.0)
    WA = A * weights
    num, den = WZ.sum(axis=1), WA.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        S0 = np.where(den > 0, num / den, np.nan)
        loo_den = den[:, None] - WA
        S_loo = np.where(loo_den > 1e-12, (num[:, None] - WZ) / loo_den, np.nan)
        S_lo = (num[:, None] - 0.5 * WZ) / (den[:, None] - 0.5 * WA)
        S_hi = (num[:, None] + 0.5 * WZ) / (den[:, None] + 0.5 * WA)
    k = Z.shape[1]
    S = np.concatenate([S0[:, None], S_loo, S_lo, S_hi], axis=1)
    ok = rated & ~np.isnan(S0)
    V, _, _ = _finalise(S, ok, kind)
    R = min_ranks(V)
    base_rank = R[:, 0]
    loo = R[:, 1:1 + k] if k > 1 else np.full((len(R), 0), np.nan)
    wv = R[:, 1 + k:]
    with np.errstate(invalid="ignore"):
        loo_all = np.concatenate([base_rank[:, None], loo], axis=1)
        wv_all = np.concatenate([base_rank[:, None], wv], axis=1)
        c0 = classify(V[:, 0], cutoffs)
        c_loo = classify(V[:, 1:1 + k], cutoffs)
    changes = (c_loo != c0[:, None]) & (c_loo >= 0) & ok[:, None] & (k > 1)
    return {
        "rank": base_rank,
        "loo_min": np.nanmin(np.where(np.isnan(loo_all), np.inf, loo_all), axis=1),
        "loo_max": np.nanmax(np.where(np.isnan(loo_all), -np.inf, loo_all), axis=1),
        "weight_min": np.nanmin(np.where(np.isnan(wv_all), np.inf, wv_all), axis=1),
        "weight_max": np.nanmax(np.where(np.isnan(wv_all), -np.inf, wv_all), axis=1),
        "class_changes": changes,
    }


