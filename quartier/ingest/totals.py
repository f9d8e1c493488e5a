"""Total rows in tables with one row per area: never read as an area, checked against the sum of the areas.

A row is a total when its label says so ("Summe", "… insgesamt"), names the city or a Stadtbezirk that is no
area, repeats an area already read (Bezirk "Eimsbüttel" after Stadtteil "Eimsbüttel"), or when its counts equal the
sum of the area rows since the last total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

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
    """
    n = len(labels)
    out = Totals(np.zeros(n, dtype=bool))
    codes, uniq = pd.factorize(labels)
    info = label_info(uniq, matcher)
    run = _Running(counts)
    seen: set[str] = set()
    areas: list[int] = []
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
            if reason is None and run.equals_sum(i):  # "Bezirk 3" unknown as a name
                reason = "Werte = Summe der Zeilen darüber"
        elif sid in seen:
            reason = "Name kommt schon weiter oben vor"
        elif run.equals_sum(i):
            reason = "Werte = Summe der Zeilen darüber"
        if reason is None:
            if sid is not None:
                seen.add(sid)
                run.add(i)
                areas.append(i)
            continue
        out.mask[i] = True
        out.reasons[i] = reason
        _check(out, i, areas if kind == "stadt" else run.rows, counts)
        run.reset()
    return out


class _Running:
    """The area rows since the last total and, per count column, their running sum and whether all were numbers."""

    def __init__(self, counts: list[tuple[int, np.ndarray, np.ndarray]]):
        self.vals = [v.tolist() for _c, v, _st in counts]
        self.ok = [(st == V.OK).tolist() for _c, _v, st in counts]
        self.reset()

    def reset(self) -> None:
        self.rows: list[int] = []
        self.sums = [0.0] * len(self.vals)
        self.all_ok = [True] * len(self.vals)

    def add(self, i: int) -> None:
        self.rows.append(i)
        for k, (vals, ok) in enumerate(zip(self.vals, self.ok)):
            if ok[i]:
                self.sums[k] += vals[i]
            else:
                self.all_ok[k] = False

    def equals_sum(self, i: int) -> bool:
        """At least two area rows above, and every count of row ``i`` that can be checked equals their sum (not 0)."""
        if len(self.rows) < 2:
            return False
        tested = False
        for k, (vals, ok) in enumerate(zip(self.vals, self.ok)):
            if not ok[i] or not self.all_ok[k]:
                continue
            if abs(self.sums[k] - vals[i]) > TOLERANCE or vals[i] == 0:
                return False
            tested = True
        return tested


def _check(out: Totals, i: int, parts: list[int], counts: list[tuple[int, np.ndarray, np.ndarray]]) -> None:
    if not parts:
        return
    for c, vals, st in counts:
        if st[i] != V.OK or (st[parts] != V.OK).any():
            continue  # suppressed or missing parts: the sum cannot be checked
        got = float(vals[parts].sum())
        if abs(got - float(vals[i])) > TOLERANCE:
            out.mismatches.append((i, c, float(vals[i]), got))
