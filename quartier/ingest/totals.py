"""Total rows in tables with one row per area: never read as an area, checked against the sum of the areas.

A row is a total when its label says so ("Summe", "… insgesamt"), names the city or a Stadtbezirk that is no
area, repeats an area already read (Bezirk "Eimsbüttel" after Stadtteil "Eimsbüttel"), or when its counts equal the
sum of the area rows since the last total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quartier.ingest import values as V
from quartier.ingest.match import Matcher, normalize

TOLERANCE = 0.5
_TOTAL_WORDS = ("summe", "gesamt", "insgesamt", "gesamtstadt", "total", "stadtgesamt")


def is_total_word(text: str) -> bool:
    k = normalize(text)
    if not k:
        return False
    return k in _TOTAL_WORDS or k.startswith("summe") or k.endswith("gesamt") or k.endswith("insgesamt") or k.startswith("gesamt")


def label_info(values: Any, matcher: Matcher) -> list[tuple[str, str | None, str | None, bool]]:
    """Per distinct row label: (text, area id, 'stadt'/'bezirk' or None, says "total"), remembered for the file."""
    cache, out = matcher.label_cache, []
    for raw in values:
        key: tuple[type, Any] | None = (type(raw), raw)
        try:
            out.append(cache[key])
            continue
        except KeyError:
            pass
        except TypeError:
            key = None
        text = V.cell_text(raw).strip()
        sid = matcher.match_many("sozialraum", [raw])[0] if text else None
        info = (text, sid, matcher.total_kind(text) if text else None, is_total_word(text))
        if key is not None:
            cache[key] = info
        out.append(info)
    return out


@dataclass
class Totals:
    mask: np.ndarray
    reasons: dict[int, str] = field(default_factory=dict)                     # row index -> why it is a total
    mismatches: list[tuple[int, int, float, float]] = field(default_factory=list)  # (row, column, stated, sum)


@dataclass
class LabelFlags:
    """Per distinct label (one more entry at the end for an empty cell, code -1): has text, area number (-1: none;
    one number per area id), names the city, names a Stadtbezirk, says "total"; and as numbers (-1: none) the
    Stadtbezirk an area belongs to and the one a district total names (its total is checked against its own areas)."""

    has_text: np.ndarray
    sid: np.ndarray
    city: np.ndarray
    district: np.ndarray
    word: np.ndarray
    area_bezirk: np.ndarray
    total_bezirk: np.ndarray


def label_flags(uniq: Any, matcher: Matcher) -> LabelFlags:
    """:func:`label_info` of the distinct labels of a column as arrays, once per file for the same list of labels
    (every sheet of a yearbook has the same area column); keyed by the labels and their types, as ``label_info``."""
    key = matcher.uniques_key(uniq)
    hit: LabelFlags | None = matcher.label_sets.get(key)
    if hit is not None:
        return hit
    info = label_info(uniq, matcher)
    sid_num: dict[str, int] = {}
    bz_num: dict[str, int] = {}

    def bezirk(bid: str | None) -> int:
        return -1 if bid is None else bz_num.setdefault(bid, len(bz_num))

    flags = LabelFlags(
        has_text=np.array([bool(t) for t, _s, _k, _w in info] + [False], dtype=bool),
        sid=np.array([sid_num.setdefault(s, len(sid_num)) if s is not None else -1 for _t, s, _k, _w in info] + [-1],
                     dtype=np.int64),
        city=np.array([k == "stadt" for _t, _s, k, _w in info] + [False], dtype=bool),
        district=np.array([k == "bezirk" for _t, _s, k, _w in info] + [False], dtype=bool),
        word=np.array([w for _t, _s, _k, w in info] + [False], dtype=bool),
        area_bezirk=np.array([bezirk(matcher.area_district.get(s)) if s is not None else -1 for _t, s, _k, _w in info] + [-1],
                             dtype=np.int64),
        total_bezirk=np.array([bezirk(matcher.district_of(t)) if k == "bezirk" else -1 for t, _s, k, _w in info] + [-1],
                              dtype=np.int64))
    matcher.label_sets[key] = flags
    return flags


def find_totals(labels: np.ndarray, counts: list[tuple[int, np.ndarray, np.ndarray]], matcher: Matcher) -> Totals:
    """The total rows of a one-row-per-area table; ``counts`` are (column, values, status) of count columns.

    Each distinct label is matched once. When every count is a whole number (sums exact in any order) the rows are
    decided all at once by :func:`_settle`; otherwise, or when that does not settle, :func:`_walk` goes row by row.
    """
    codes, uniq = matcher.factorize(labels)
    nk, n = len(counts), len(labels)
    vals = np.array([v for _c, v, _st in counts], dtype=float).reshape(nk, n)
    ok = np.array([st == V.OK for _c, _v, st in counts], dtype=bool).reshape(nk, n)
    x = np.where(ok, vals, 0.0)
    if np.isfinite(x).all() and (x == np.round(x)).all() and float(np.abs(x).sum()) < 2.0 ** 52:
        out = _settle(codes, label_flags(uniq, matcher), vals, ok, x, [c for c, _v, _st in counts])
        if out is not None:
            return out
    return _walk(codes, label_info(uniq, matcher), counts, matcher)


_REASONS = ("als Summe bezeichnet", "Name der Stadt", "Name eines Stadtbezirks", "Name kommt schon weiter oben vor",
            "Werte = Summe der Zeilen darüber")


def _settle(codes: np.ndarray, f: LabelFlags, vals: np.ndarray, ok: np.ndarray, x: np.ndarray, cols: list[int]) -> Totals | None:
    """The result of :func:`_walk`, computed for all rows at once (``x``: the counts, 0 where not a number, whole numbers).

    Whether row i is a total depends only on which rows before it are totals. So a guess of the total rows that
    reproduces itself when every row is judged against it (:func:`_judge`) is exactly what the walk finds: by
    induction over the rows, both agree on each row. The guess starts with every row that is no area (the sums then
    restart at each of them: a Stadtbezirk after its areas) and is replaced by its judgement until it settles; None
    when it does not within a few rounds (the walk decides then). Sums of whole numbers below 2**52 are exact in any
    order, so differences of running sums equal the walk's sums and numpy's sums of the parts bit for bit.
    """
    c = np.where(codes < 0, len(f.word) - 1, codes)
    has, sid = f.has_text[c], f.sid[c]
    area, other = has & (sid >= 0), has & (sid < 0)
    word = other & f.word[c]
    named = other & ~word & (f.city[c] | f.district[c])
    open_ = other & ~word & ~named           # no area, no total by its name: a total when its counts equal the sum
    guess = other
    for _round in range(4):
        judged = _judge(guess, word | named, open_, area, sid, vals, ok, x)
        if (judged[0] == guess).all():
            break
        guess = judged[0]
    else:
        return None
    total, dup, run, (got, n_parts, bad) = judged
    out = Totals(total)
    ti = np.flatnonzero(total)
    for i, is_word, is_named, is_city, is_dup in zip(ti.tolist(), word[ti].tolist(), named[ti].tolist(),
                                                      f.city[c[ti]].tolist(), dup[ti].tolist()):
        out.reasons[i] = _REASONS[0 if is_word else 1 if is_named and is_city else 2 if is_named else 3 if is_dup else 4]
    city = f.city[c] | (word & ~f.district[c])   # a row called "Summe" is checked against all areas above
    lo = np.where(city[ti], 0, run[ti])
    sums = got[:, ti] - got[:, lo]
    parts_ok = (bad[:, ti] - bad[:, lo]) == 0
    n_in = n_parts[ti] - n_parts[lo]
    _own_district(ti, f.total_bezirk[c[ti]], f.area_bezirk[c], area & ~total, x, ok, (sums, parts_ok, n_in))
    with np.errstate(invalid="ignore"):
        wrong = ok[:, ti] & parts_ok & (n_in > 0) & (np.abs(sums - vals[:, ti]) > TOLERANCE)
    for t, k in np.argwhere(wrong.T).tolist():
        out.mismatches.append((int(ti[t]), cols[k], float(vals[k, ti[t]]), float(sums[k, t])))
    return out


def _own_district(ti: np.ndarray, named: np.ndarray, area_bezirk: np.ndarray, parts: np.ndarray, x: np.ndarray,
                  ok: np.ndarray, into: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """A total naming a known Stadtbezirk (``named`` >= 0) is checked against the area rows above it of that district,
    not the rows since the last total (all district totals may follow all areas: Hamburg), as :func:`_walk` does."""
    sums, parts_ok, n_in = into
    for t in np.flatnonzero(named >= 0).tolist():
        i = int(ti[t])
        sel = np.flatnonzero(parts[:i] & (area_bezirk[:i] == named[t]))
        sums[:, t] = x[:, sel].sum(axis=1)
        parts_ok[:, t] = ok[:, sel].all(axis=1)
        n_in[t] = len(sel)


def run_sums(x: np.ndarray, parts: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prefix sums with a leading 0 over the ``parts`` rows: counts per column, number of rows, counts not a number."""
    nk, n = x.shape
    got = np.zeros((nk, n + 1))
    np.cumsum(x * parts, axis=1, out=got[:, 1:])
    n_parts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(parts, out=n_parts[1:])
    bad = np.zeros((nk, n + 1), dtype=np.int64)
    np.cumsum(parts & ~ok, axis=1, out=bad[:, 1:])
    return got, n_parts, bad


def _judge(guess: np.ndarray, by_name: np.ndarray, open_: np.ndarray, area: np.ndarray, sid: np.ndarray, vals: np.ndarray,
           ok: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each row judged as :func:`_walk` would with the total rows before it as in ``guess``: (total, area name seen
    before, first row of the run of area rows since the last total, :func:`run_sums` of the area rows)."""
    n = len(guess)
    idx = np.arange(n)
    parts = area & ~guess
    run = np.zeros(n, dtype=np.int64)   # per row the first row after the last total above it
    np.maximum.accumulate(np.where(guess[:-1], idx[1:], 0), out=run[1:])
    got, n_parts, bad = run_sums(x, parts, ok)
    sums = got[:, :n] - got[:, run]   # per row the sum of the parts since the last total, before the row
    every = (bad[:, :n] - bad[:, run]) == 0
    tested = ok & every
    with np.errstate(invalid="ignore"):
        fails = tested & ((np.abs(sums - vals) > TOLERANCE) | (vals == 0))
    eq = (n_parts[:n] - n_parts[run] >= 2) & tested.any(axis=0) & ~fails.any(axis=0)
    first = np.full(int(sid.max(initial=-1)) + 2, n)
    np.minimum.at(first, sid[parts], idx[parts])
    dup = area & (first[sid] < idx)
    return by_name | (open_ & eq) | (area & (dup | eq)), dup, run, (got, n_parts, bad)


def _walk(codes: np.ndarray, info: list[tuple[str, str | None, str | None, bool]],
          counts: list[tuple[int, np.ndarray, np.ndarray]], matcher: Matcher) -> Totals:
    """Walk the rows one by one (``info``: the matched label per code). The sum of the area rows since the last total
    is kept running per count column (plain floats), so testing "values = sum of the rows above" costs a comparison
    per row, not a sum. One loop over plain lists, the running state in local variables."""
    n = len(codes)
    out = Totals(np.zeros(n, dtype=bool))
    row_vals = list(zip(*(v.tolist() for _c, v, _st in counts))) or [()] * n
    row_ok = list(zip(*((st == V.OK).tolist() for _c, _v, st in counts))) or [()] * n
    nk = len(counts)
    vals = np.array([v for _c, v, _st in counts], dtype=float).reshape(nk, n)
    cols = [c for c, _v, _st in counts]
    seen: set[str] = set()
    areas: list[int] = []
    area_sid: dict[int, str] = {}       # area row -> its id (a Stadtbezirk's total is checked against its own areas)
    areas_ok = [True] * nk              # every area row so far a number, per count column (for the city total)
    run: list[int] = []                 # the area rows since the last total
    sums, all_ok = [0.0] * nk, [True] * nk

    def equals_sum(i: int) -> bool:
        """At least two area rows above, and every count of row ``i`` that can be checked equals their sum (not 0)."""
        if len(run) < 2:
            return False
        tested = False
        for val, ok, total, every in zip(row_vals[i], row_ok[i], sums, all_ok):
            if not ok or not every:
                continue
            if abs(total - val) > TOLERANCE or val == 0:
                return False
            tested = True
        return tested

    for i, code in enumerate(codes.tolist()):
        if code < 0:
            continue
        text, sid, kind, word = info[code]
        if not text:
            continue
        reason = None
        if word and sid is None:
            reason, kind = "als Summe bezeichnet", kind or "stadt"
        elif sid is None:
            reason = {"stadt": "Name der Stadt", "bezirk": "Name eines Stadtbezirks"}.get(kind or "")
            if reason is None and equals_sum(i):  # "Bezirk 3" unknown as a name
                reason = "Werte = Summe der Zeilen darüber"
        elif sid in seen:
            reason = "Name kommt schon weiter oben vor"
        elif equals_sum(i):
            reason = "Werte = Summe der Zeilen darüber"
        if reason is None:
            if sid is not None:
                seen.add(sid)
                run.append(i)
                areas.append(i)
                area_sid[i] = sid
                for k, (val, ok) in enumerate(zip(row_vals[i], row_ok[i])):
                    if ok:
                        sums[k] += val
                    else:
                        all_ok[k] = areas_ok[k] = False
            continue
        out.mask[i] = True
        out.reasons[i] = reason
        city = kind == "stadt"
        parts, parts_ok = (areas, areas_ok) if city else (run, all_ok)
        bid = matcher.district_of(text) if kind == "bezirk" else None
        if bid is not None:  # not the rows since the last total: all district totals may follow all areas (Hamburg)
            parts = [r for r in areas if matcher.area_district.get(area_sid[r]) == bid]
            parts_ok = [all(row_ok[r][k] for r in parts) for k in range(nk)]
        _check(out, i, parts, parts_ok, (row_vals[i], row_ok[i]), vals, cols)
        run = []
        sums, all_ok = [0.0] * nk, [True] * nk
    return out


def _check(out: Totals, i: int, parts: list[int], parts_ok: list[bool], row: tuple[tuple[float, ...], tuple[bool, ...]],
           vals: np.ndarray, cols: list[int]) -> None:
    """Compare the counts of total row ``i`` with the sums of its ``parts`` (only columns where the total and every
    part are numbers: ``parts_ok``). ``vals`` holds one count column per row; each sum is numpy's sum of that
    column's parts, as before (a contiguous row of ``vals[:, parts]`` sums exactly like ``column[parts]``)."""
    if not parts:
        return
    cand = [k for k, (ok, every) in enumerate(zip(row[1], parts_ok)) if ok and every]
    if not cand:
        return  # suppressed or missing parts: the sum cannot be checked
    sub = vals[:, parts]
    for k in cand:
        got = float(sub[k].sum())
        if abs(got - row[0][k]) > TOLERANCE:
            out.mismatches.append((i, cols[k], row[0][k], got))
