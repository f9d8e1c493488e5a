"""Comparable areas ("Vergleichbare Sozialräume"): the k areas with the most similar profile.

For an area and a year, each indicator of the set is z-standardised over all areas with a value that year
(mean and population standard deviation, ddof=0; an indicator without spread gives z = 0 everywhere).
The distance between two areas is the Euclidean distance over the indicators both have, rescaled to the
full set: ``sqrt(sum(d²) / m * M)`` with m indicators in common out of M. Areas with no indicator in
common are left out; ties go to the smaller id. ``naechste_indikatoren`` are the (up to three) indicators
where the two areas differ least (ties by the order of the set).

Default indicator set: the indicators of the saved index method (the most recently saved one), else all
rate indicators of the catalogue. Values are read as the actor may see them (a protected value counts as
missing).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from quartier import db, units
from quartier.access import Actor
from quartier.errors import QuartierError
from quartier.values import indicators, query

N_NEAREST_INDICATORS = 3


class SimilarError(QuartierError):
    """Unknown area, year or indicator; German message."""


def default_indicators(con) -> list[str]:
    from quartier.need import method as need_method

    saved = need_method.methods(con)
    if len(saved):
        latest = saved.sort_values("erstellt_am", kind="stable").iloc[-1]["methode"]
        return list(latest.indicator_ids)
    cat = indicators.catalogue(con)
    return [str(i) for i, u in zip(cat["id"], cat["einheit"]) if not units.is_count(u)]


def zscores(X: np.ndarray) -> np.ndarray:
    """Column-wise z-scores with population SD (NaN stays NaN; zero spread -> 0)."""
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an indicator without any value that year: NaN column
        mean = np.nanmean(X, axis=0)
        sd = np.nanstd(X, axis=0, ddof=0)
        Z = (X - mean) / np.where(sd > 0, sd, 1.0)
    Z[:, ~(sd > 0)] = np.where(np.isnan(X[:, ~(sd > 0)]), np.nan, 0.0)
    return Z


def rank(Z: np.ndarray, ids: list[str], target: int, k: int) -> list[tuple[int, float, list[int]]]:
    """(row, distance, nearest indicator columns) of the k rows closest to ``target`` (see module doc)."""
    M = Z.shape[1]
    D = Z - Z[target]
    both = ~np.isnan(D)
    m = both.sum(axis=1)
    sq = np.where(both, D * D, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.sqrt(sq / m * M)
    ok = (m > 0) & (np.arange(len(ids)) != target)
    rows = np.nonzero(ok)[0]
    # ties (equal up to rounding) by id: one vectorised sort, no Python key per area
    order = rows[np.lexsort((np.asarray(ids, dtype=object)[rows].astype(str), np.round(dist[rows], 12)))][:k]
    out = []
    for i in order:
        cols = np.nonzero(both[i])[0]
        near = sorted(cols, key=lambda j: (abs(D[i, j]), j))[:N_NEAREST_INDICATORS]
        out.append((int(i), float(dist[i]), [int(j) for j in near]))
    return out


@dataclass(frozen=True)
class Profiles:
    """The z-standardised profiles of all areas in one year (load once, rank many areas)."""

    year: int
    ids: list[str]
    names: dict[str, str]
    indicators: list[str]
    Z: np.ndarray


def data_stamp(con) -> int:
    """Changes with every write (every write is audited; logins change no data): the key of stored profiles."""
    row = con.cursor().execute("SELECT coalesce(max(id), 0) FROM audit_log"
                               " WHERE aktion NOT IN ('anmeldung', 'anmeldung_fehlgeschlagen')").fetchone()
    return int(row[0]) if row else 0


def _cache_key(year: int, inds: list[str], actor: Actor) -> str:
    return json.dumps([int(year), "roh" if actor.can_see_raw else "geschuetzt", list(inds)], ensure_ascii=False)


def _cached(con, key: str, stamp: int) -> Profiles | None:
    try:
        row = con.cursor().execute("SELECT ids, namen, z FROM profil_cache WHERE schluessel = ? AND stand = ?",
                                   [key, stamp]).fetchone()
    except duckdb.CatalogException:  # a database before migration 016 opened read-only
        return None
    if not row:
        return None
    year, _, inds = json.loads(key)
    ids, names = json.loads(row[0]), json.loads(row[1])
    Z = np.frombuffer(row[2], dtype=np.float64).reshape(len(ids), len(inds)).copy()
    return Profiles(int(year), ids, dict(zip(ids, names)), list(inds), Z)


def _store(con, key: str, stamp: int, p: Profiles) -> None:
    """Best effort: a read-only connection (or a busy writer) simply does not store."""
    try:
        with db.transaction(con) as cur:
            cur.execute("DELETE FROM profil_cache WHERE schluessel = ? OR stand < ?", [key, stamp])
            cur.execute("INSERT INTO profil_cache (schluessel, stand, ids, namen, z) VALUES (?, ?, ?, ?, ?)",
                        [key, stamp, json.dumps(p.ids, ensure_ascii=False),
                         json.dumps([p.names[i] for i in p.ids], ensure_ascii=False),
                         np.ascontiguousarray(p.Z, dtype=np.float64).tobytes()])
    except duckdb.Error:
        pass


def profiles(con, year: int, indicator_ids: list[str] | None = None, *, actor: Actor) -> Profiles:
    """Values of ``year`` as ``actor`` may see them, z-standardised per indicator over all areas.

    Stored per data stamp, year, view (raw/protected) and indicator set (table ``profil_cache``): the next
    call reads one row instead of all values; any write (a delivery, a withdrawal, a setting) makes it stale."""
    inds = list(indicator_ids) if indicator_ids else default_indicators(con)
    if not inds:
        raise SimilarError("Keine Indikatoren für den Vergleich: bitte --indikatoren angeben.")
    stamp, key = data_stamp(con), _cache_key(year, inds, actor)
    hit = _cached(con, key, stamp)
    if hit is not None:
        return hit
    p = _compute_profiles(con, int(year), inds, actor=actor)
    _store(con, key, stamp, p)
    return p


def _compute_profiles(con, year: int, inds: list[str], *, actor: Actor) -> Profiles:
    areas = indicators.areas(con)
    ids = [str(i) for i in areas["id"]]
    cat_ids = set(indicators.catalogue(con)["id"].astype(str))
    unknown = [i for i in inds if i not in cat_ids]
    if unknown:
        raise SimilarError(f"Indikator(en) {', '.join(unknown)} nicht bekannt.")
    v = indicators.current_values(con, inds, [int(year)], actor=actor)
    if v.empty:
        raise SimilarError(f"Für {year} liegen zu diesen Indikatoren keine Werte vor.")
    wide = v.pivot_table(index="sozialraum_id", columns="indikator_id", values="wert", aggfunc="first", dropna=False)
    X = wide.reindex(index=ids, columns=inds).to_numpy(dtype=float)
    return Profiles(int(year), ids, dict(zip(ids, areas["name"].astype(str))), inds, zscores(X))


def similar_in(p: Profiles, sozialraum_id: str, k: int = 5) -> dict:
    """The result of :func:`similar` from loaded profiles."""
    if sozialraum_id not in p.names:
        raise SimilarError(f"Sozialraum {sozialraum_id!r} ist nicht bekannt.")
    target = p.ids.index(sozialraum_id)
    if np.isnan(p.Z[target]).all():
        raise SimilarError(f"Sozialraum {sozialraum_id} hat {p.year} keinen (sichtbaren) Wert dieser Indikatoren.")
    return {
        "sozialraum": sozialraum_id, "jahr": p.year, "indikatoren": list(p.indicators),
        "aehnliche": [{"id": p.ids[i], "name": p.names[p.ids[i]], "distanz": round(d, 6),
                       "naechste_indikatoren": [p.indicators[j] for j in near]}
                      for i, d, near in rank(p.Z, p.ids, target, int(k))],
    }


def similar(con, sozialraum_id: str, year: int, k: int = 5, indicator_ids: list[str] | None = None, *,
            actor: Actor) -> dict:
    """``{"sozialraum", "jahr", "indikatoren", "aehnliche": [{"id", "name", "distanz", "naechste_indikatoren"}]}``."""
    if con.cursor().execute("SELECT count(*) FROM sozialraum WHERE id = ?", [sozialraum_id]).fetchone()[0] == 0:
        raise SimilarError(f"Sozialraum {sozialraum_id!r} ist nicht bekannt.")
    return similar_in(profiles(con, year, indicator_ids, actor=actor), sozialraum_id, k)


def latest_year(con, indicator_ids: list[str]) -> int | None:
    yrs = query.years(con, list(indicator_ids))  # on today's areas
    return yrs[-1] if yrs else None


def frame(result: dict, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Display frame: id, name, distance, "ähnlich, weil …" in words."""
    lab = labels or {}
    return pd.DataFrame([{"id": r["id"], "name": r["name"], "distanz": r["distanz"],
                          "weil": "ähnlich bei " + ", ".join(lab.get(i, i) for i in r["naechste_indikatoren"])}
                         for r in result["aehnliche"]], columns=["id", "name", "distanz", "weil"])


__all__ = ["Profiles", "SimilarError", "data_stamp", "default_indicators", "frame", "latest_year", "profiles", "rank", "similar",
           "similar_in", "zscores"]
