"""Comparison with the current values and the warnings that need it (in DuckDB): changes, jumps, gaps."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from quartier import db
from quartier.ingest.analysis import (
    ERROR,
    MAX_PER_RULE,
    VALUE_COLUMNS,
    WARNING,
    Emitter,
    FileAnalysis,
    Finding,
    ValueCodes,
    fmt_number,
)

JUMP_SPREADS = 4.0               # a jump larger than 4 standard deviations of the usual year-on-year change

_OLD_SQL = (
    "SELECT a.wert, a.zaehler, a.nenner, a.gesperrt, a.lieferung_id FROM _imp_vals i LEFT JOIN messwert_aktuell a"
    " ON a.indikator_id = i.indikator_id AND a.sozialraum_id = i.sozialraum_id AND a.jahr = i.jahr ORDER BY i.pos"
)
_HIST_SQL = (
    "SELECT a.indikator_id, a.sozialraum_id, a.jahr, a.wert FROM messwert_aktuell a"
    " WHERE a.wert IS NOT NULL AND a.indikator_id IN (SELECT unnest(?::VARCHAR[]))"
)
# Any stored value (of any delivery, active or not) for the delivered (indicator, year) pairs? Without one, no
# delivered value has a current value and the join above is skipped (a new year of known indicators, a fresh city).
# And any for the delivered indicators in any year? Without one there is no history either (messwert_aktuell is made
# of messwert rows of the same indicator) and the query for it is skipped (a fresh city).
_ANY_SQL = (
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM messwert m JOIN (SELECT unnest(?::VARCHAR[]) AS i, unnest(?::INTEGER[]) AS j) p"
    " ON m.indikator_id = p.i AND m.jahr = p.j LIMIT 1)),"
    " (SELECT count(*) FROM (SELECT 1 FROM messwert WHERE indikator_id IN (SELECT unnest(?::VARCHAR[])) LIMIT 1))"
)


_NO_HISTORY: dict[str, Any] = {"indikator_id": (), "sozialraum_id": (), "jahr": (), "wert": ()}


def _jumps(v: pd.DataFrame, hist: dict[str, Any], count_ids: set[str],
           delivered: tuple[np.ndarray, Any, np.ndarray | None] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions in ``v`` whose change against the previous year exceeds the usual spread of the indicator.

    The usual spread is the standard deviation of year-on-year changes of that indicator over all
    Sozialräume in the values already stored (or, with fewer than 20 such changes, including this delivery);
    counts (unit "Anzahl") are compared as relative changes. Returns (positions, previous, limit, relative).
    ``delivered``: the indicator ids of ``v`` factorised already (:class:`_Pairs`) and its area numbers (from the
    validation, or None).
    """
    nv = len(v)
    w = v["wert"].to_numpy(float)
    if nv >= 2 and len(hist["jahr"]) == 0 and delivered is not None and not np.isnan(w).any():
        # nothing stored, every value a number, distinct keys (validated values): in key order without sorting or
        # copying the records (the order is the same as below, so are the sums)
        ic, iu, sc = delivered
        year = v["jahr"].to_numpy(np.int64)
        order = _distinct_order(ic, sc, year) if sc is not None else None
        if order is not None and sc is not None:
            ic, sc = ic[order], sc[order]
            same_pair = (ic[1:] == ic[:-1]) & (sc[1:] == sc[:-1])
            del sc
            return _beyond_spread(ic, iu, same_pair, year[order], w[order], order, count_ids)
    year = np.concatenate([v["jahr"].to_numpy(np.int64), np.asarray(hist["jahr"], dtype=np.int64)])
    w = np.concatenate([w, np.asarray(hist["wert"], dtype=float)])
    pos = np.concatenate([np.arange(nv), np.full(len(year) - nv, -1)])
    ok = ~np.isnan(w)
    every = bool(ok.all())
    only_delivered = len(w) == nv and every
    if not every:
        year, w, pos = year[ok], w[ok], pos[ok]
    if len(w) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)

    def ids(col: str) -> np.ndarray:  # the ids of the delivered and stored values, only when they are factorised
        out = np.concatenate([v[col].to_numpy(object), np.asarray(hist[col], dtype=object)])
        return out if every else out[ok]

    sc = None
    if delivered is not None and only_delivered:
        ic, iu, sc = delivered
    else:
        ic, iu = pd.factorize(ids("indikator_id"))
    if sc is None:
        sc, _ = pd.factorize(ids("sozialraum_id"))
    key = (ic.astype(np.int64) * (int(sc.max()) + 1) + sc) * 4000 + year
    # per key the delivered value first; with no stored values (all pos >= 0) that is a stable sort by key alone
    order = np.lexsort((pos < 0, key)) if (pos < 0).any() else np.argsort(key, kind="stable")
    ks = key[order]
    sel = order[np.r_[True, ks[1:] != ks[:-1]]]   # sorted by indicator, Sozialraum, year
    pair = key[sel] // 4000
    return _beyond_spread(ic[sel], iu, pair[1:] == pair[:-1], key[sel] % 4000, w[sel], pos[sel], count_ids)


def _beyond_spread(ic: np.ndarray, iu: Any, same_pair: np.ndarray, yr: np.ndarray, w: np.ndarray, pos: np.ndarray,
                   count_ids: set[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_jumps` on the values sorted by (indicator ``ic``, area, year ``yr``), one per key (``same_pair``: each
    value has the indicator and area of the one before); ``pos``: the position in the delivery, -1 for a stored value.
    The changes are computed in place (the same operations per value as a nested ``np.where``: less memory)."""
    consecutive = np.r_[False, same_pair & (yr[1:] - yr[:-1] == 1)]
    prev = np.r_[np.nan, w[:-1]]
    rel = np.array([i in count_ids for i in iu], dtype=bool)[ic]
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = w - prev
        if rel.any():
            np.divide(diff, np.abs(prev), out=diff, where=rel)
    del w, yr   # the sorted copies (memory for the sums below)
    diff[~consecutive] = np.nan
    diff[~np.isfinite(diff)] = np.nan
    k = len(iu)
    have = ~np.isnan(diff)

    def spread(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        of, d = ic[mask], diff[mask]
        cnt = np.bincount(of, minlength=k).astype(float)
        s1 = np.bincount(of, weights=d, minlength=k)
        s2 = np.bincount(of, weights=d ** 2, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = (s2 - s1 ** 2 / cnt) / (cnt - 1)
        return cnt, np.sqrt(np.clip(np.nan_to_num(var, nan=0.0), 0, None))

    _, all_sd = spread(have)
    stored = pos < 0
    if stored.any():
        old_cnt, old_sd = spread(have & stored & np.r_[False, stored[:-1]])
        sd = np.where(old_cnt >= 20, old_sd, all_sd)
    else:  # no change between stored values: the spread of all changes
        sd = all_sd
    lim = JUMP_SPREADS * sd[ic]
    with np.errstate(invalid="ignore"):
        jump = ~stored & have & (lim > 0) & (np.abs(diff) > lim)
    return pos[jump], prev[jump], lim[jump], rel[jump]


def _distinct_order(ic: np.ndarray, sc: np.ndarray, year: np.ndarray) -> np.ndarray | None:
    """The positions in (indicator, area, year) order, as ``np.argsort`` of the key would give them, by placing each
    value in a slot of the compact (indicator, area, year) range (no sort of 100,000 keys); None when two values
    share a key or the range is too large."""
    y0 = int(year.min())
    n_sr, span = int(sc.max()) + 1, int(year.max()) - y0 + 1
    size = (int(ic.max()) + 1) * n_sr * span
    if size > 4 * len(year) + 4096:
        return None
    key = ic.astype(np.int64)   # (ic * n_sr + sc) * span + year - y0, in place
    key *= n_sr
    key += sc
    key *= span
    key += year
    key -= y0
    slot = np.full(size, -1, dtype=np.int32)
    slot[key] = np.arange(len(year), dtype=np.int32)
    del key
    order = slot[slot >= 0]
    return order if len(order) == len(year) else None


class _Pairs:
    """The delivered values grouped by (indicator, year): each value's group, and per group its key and size."""

    def __init__(self, v: pd.DataFrame, codes: ValueCodes | None = None):
        if codes is not None:  # numbered as first met in ``v``, as factorising the ids would (the order of the messages)
            ic, first = pd.factorize(codes.ind)
            self.iu = codes.ind_ids[first]
        else:
            ic, self.iu = pd.factorize(v["indikator_id"].to_numpy(object))
        self.ic = ic
        year = v["jahr"].to_numpy(np.int64)
        y0, span = int(year.min()), int(year.max()) - int(year.min()) + 1
        if len(self.iu) * span <= 4 * len(year) + 4096:  # few (indicator, year) slots: counted, not hashed or sorted
            slot = ic.astype(np.int64) * span + (year - y0)
            counts = np.bincount(slot, minlength=len(self.iu) * span)
            used = np.flatnonzero(counts)
            self.uk = used // span * 4000 + used % span + y0
            self.inv = (np.cumsum(counts > 0) - 1)[slot]
            self.cnt = counts[used]
            return
        key = ic.astype(np.int64) * 4000 + year
        # np.unique(key, return_inverse=True, return_counts=True), by hashing (the few groups sorted, not the values)
        kc, uniq = pd.factorize(key)
        order = np.argsort(uniq)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        self.uk, self.inv = uniq[order], rank[kc]
        self.cnt = np.bincount(self.inv, minlength=len(order))

    def lists(self) -> tuple[list[str], list[int]]:
        """The distinct (indicator, year) pairs as two parallel lists."""
        return [str(x) for x in np.asarray(self.iu, dtype=object)[self.uk // 4000]], [int(y) for y in self.uk % 4000]


def _missing(v: pd.DataFrame, areas: list[str], pairs: _Pairs) -> list[tuple[str, int, list[str]]]:
    """(indicator, year, missing Sozialräume) for every indicator and year with fewer areas than the city has."""
    if not areas or v.empty:
        return []
    iu, uk, inv, cnt = pairs.iu, pairs.uk, pairs.inv, pairs.cnt
    short = np.flatnonzero(cnt < len(areas))
    if not len(short):
        return []
    sr = v["sozialraum_id"].to_numpy(object)
    order = np.argsort(inv, kind="stable")
    starts = np.r_[0, np.cumsum(cnt)[:-1]]
    out = []
    for g in short[:MAX_PER_RULE + 1]:
        have = set(sr[order[starts[g]:starts[g] + cnt[g]]])
        out.append((iu[uk[g] // 4000], int(uk[g] % 4000), [a for a in areas if a not in have]))
    return out


_ALT = (("alt_wert", "wert"), ("alt_zaehler", "zaehler"), ("alt_nenner", "nenner"), ("alt_lieferung", "lieferung_id"))


def _old_values(cur: db.Con, v: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The current value of every delivered key (NaN where none): one join in DuckDB."""
    cur.register("_imp_vals", v[VALUE_COLUMNS].assign(pos=np.arange(len(v), dtype=np.int64)))
    try:
        old = cur.execute(_OLD_SQL).fetchnumpy()
    finally:
        cur.unregister("_imp_vals")
    alt = {k: np.asarray(pd.array(old[c], dtype="Float64").to_numpy(dtype=float, na_value=np.nan)) for k, c in _ALT}
    return alt, np.asarray(pd.array(old["gesperrt"], dtype="boolean").fillna(False), dtype=bool)


def _no_old_values(n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """No stored value for any delivered (indicator, year): what :func:`_old_values` returns then, without the join."""
    return {k: np.full(n, np.nan) for k, _c in _ALT}, np.zeros(n, dtype=bool)


def compare(con: db.Con, fa: FileAnalysis) -> None:
    """Mark each value new / changed / unchanged against the current values; add the warnings."""
    v = fa.values
    if v.empty:
        return
    codes = fa.codes if fa.codes is not None and fa.codes.frame is v and len(fa.codes.ind) == len(v) else None
    pairs = _Pairs(v, codes)
    pair_ids, pair_years = pairs.lists()
    cur = con.cursor()
    try:
        ind_ids = sorted(set(pair_ids))
        stored, any_year = cur.execute(_ANY_SQL, [pair_ids, pair_years, ind_ids]).fetchall()[0]
        alt, alt_g = _old_values(cur, v) if stored else _no_old_values(len(v))
        hist = cur.execute(_HIST_SQL, [ind_ids]).fetchnumpy() if any_year else _NO_HISTORY
        if fa.matcher is not None:  # read just now by the analysis, ordered by id: the same query
            areas = list(fa.matcher.labels["sozialraum"])
        else:
            areas = [r[0] for r in (cur.execute("SELECT id FROM sozialraum ORDER BY id") if fa.gebietsstand is None else
                                    cur.execute("SELECT id FROM sozialraum_version WHERE gebietsstand_id = ? ORDER BY id",
                                                [int(fa.gebietsstand)])).fetchall()]
        fa.state = delivery_state(cur)
    finally:
        cur.close()
    exists = ~np.isnan(alt["alt_lieferung"])
    same = np.zeros(len(v), dtype=bool) if not stored else (_same(v["wert"].to_numpy(float), alt["alt_wert"]) & _same(v["zaehler"].to_numpy(float), alt["alt_zaehler"])
            & _same(v["nenner"].to_numpy(float), alt["alt_nenner"]) & (v["gesperrt"].to_numpy(bool) == alt_g))
    added = {**alt, "alt_gesperrt": alt_g, "status": pd.Categorical.from_codes(
        np.where(~exists, 0, np.where(same, 2, 1)), categories=["neu", "geaendert", "unveraendert"])}
    if any(k in v.columns for k in added):  # compared before: the columns replaced
        for k, arr in added.items():
            v[k] = arr
    else:  # one frame joined instead of six insertions (each copies its column into the frame: 3 ms on a yearbook)
        v = fa.values = pd.concat([v, pd.DataFrame(added, copy=False)], axis=1)
        if codes is not None:
            codes.frame = v
    n_new, n_same = int((~exists).sum()), int((exists & same).sum())
    fa.row_counts = {"new": n_new, "changed": len(v) - n_new - n_same, "unchanged": n_same,
                     "suppressed": int(v["gesperrt"].to_numpy(bool).sum())}
    matcher = fa.matcher

    def label(i: Any) -> str:
        return matcher.label("indikator", i) if matcher else str(i)

    recs = {k: v[k].to_numpy() for k in ("sheet", "row0", "wert_col", "indikator_id", "sozialraum_id", "jahr", "wert",
                                         "alt_wert", "alt_lieferung")}
    em = Emitter(fa, recs)
    ok = ~_rows_with_errors(fa, v)  # one message per cause: a row with an error gets no follow-up warnings
    em.emit((v["status"] == "geaendert").to_numpy() & ok, WARNING, "aenderung", "wert_col", None,
            lambda r, i: f"Ändert einen bereits gelieferten Wert ({label(r['indikator_id'])}, {r['sozialraum_id']}, {r['jahr']}): "
            f"{fmt_number(r['alt_wert'])} → {fmt_number(r['wert'])} (bisher aus Lieferung #{int(r['alt_lieferung'])}). Bitte bestätigen, "
            "dass die Korrektur gewollt ist.")
    count_ids = {i for i, u in (matcher.units.items() if matcher else []) if (u or "").strip().lower() == "anzahl"}
    pos, prev, lim, rel = _jumps(v, hist, count_ids, (pairs.ic, pairs.iu, codes.sr if codes is not None else None))
    if len(pos):
        info = {int(p): (float(pv), float(li), bool(re)) for p, pv, li, re in zip(pos, prev, lim, rel)}
        mask = np.zeros(len(v), dtype=bool)
        mask[pos] = True
        em.emit(mask & ok, WARNING, "sprung_vorjahr", "wert_col", None,
                lambda r, i: f"Großer Sprung ggü. dem Vorjahr ({label(r['indikator_id'])}, {r['sozialraum_id']}, {r['jahr']}): "
                f"{fmt_number(info[i][0])} → {fmt_number(r['wert'])}; üblich sind Änderungen bis etwa ±{_limit_text(info[i][1], info[i][2])}. "
                "Bitte prüfen.")
    n_areas = len(areas)
    missing = _missing(v, areas, pairs)
    for n_found, (iid, year, fehlend) in enumerate(missing):
        if n_found >= MAX_PER_RULE:
            fa.findings.append(Finding(WARNING, "sozialraeume_fehlen", "… und weitere "
                                       "Indikator-Jahr-Kombinationen mit fehlenden Sozialräumen."))
            break
        shown = ", ".join(fehlend[:8]) + (f" … und {len(fehlend) - 8} weitere" if len(fehlend) > 8 else "")
        fa.findings.append(Finding(WARNING, "sozialraeume_fehlen", f"Für „{label(iid)}“ {year} fehlen {len(fehlend)} von "
                                   f"{n_areas} Sozialräumen: {shown}. Bitte prüfen, ob die Lieferung vollständig ist."))


def _rows_with_errors(fa: FileAnalysis, v: pd.DataFrame) -> np.ndarray:
    """Rows of ``v`` (by sheet and row) for which the validation already reported an error."""
    bad: set[tuple[str, int]] = set()
    for f in fa.findings:
        digits = re.search(r"(\d+)$", f.cell or "")
        if f.level == ERROR and digits:
            bad.add((f.sheet, int(digits.group(1)) - 1))
    if not bad or v.empty:
        return np.zeros(len(v), dtype=bool)
    return np.fromiter(((s, int(r)) in bad for s, r in zip(v["sheet"], v["row0"])), dtype=bool, count=len(v))


def delivery_state(cur: db.Con) -> tuple[Any, ...]:
    """Changes whenever a delivery is added or withdrawn: a diff computed under the same state is still valid."""
    return tuple(cur.execute("SELECT count(*), coalesce(max(id), 0), count(*) FILTER (WHERE status = 'aktiv') "
                             "FROM lieferung").fetchall()[0])


def _limit_text(limit: float, relative: bool) -> str:
    return f"{limit * 100:.1f} %".replace(".", ",") if relative else fmt_number(round(float(limit), 1))


def _same(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        out: np.ndarray = (np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= 1e-9 * np.maximum(1, np.abs(x)))
    return out

