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


def find_totals(labels: np.ndarray, counts: list[tuple[int, np.ndarray, np.ndarray]], matcher: Matcher) -> Totals:
    """Walk the rows of a one-row-per-area table; ``counts`` are (column, values, status) of count columns.

    Each distinct label is matched once; the sum of the area rows since the last total is kept running per count
    column (plain floats), so testing "values = sum of the rows above" costs a comparison per row, not a sum.
    The walk is one loop over plain lists (per row a tuple of its counts and a tuple of "is a number"), with the
    running state in local variables: a yearbook has 23 sheets of 300 rows with 7 count columns each.
    """
    n = len(labels)
    out = Totals(np.zeros(n, dtype=bool))
    codes, uniq = matcher.factorize(labels)
    info = label_info(uniq, matcher)
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
