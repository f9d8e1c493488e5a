"""Total rows in tables with one row per area: never read as an area, checked against the sum of the areas.

A row is a total when its label says so ("Summe", "… insgesamt"), names the city or a Stadtbezirk that is no
area, repeats an area already read (Bezirk "Eimsbüttel" after Stadtteil "Eimsbüttel"), or when its counts equal the
sum of the area rows since the last total.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class Totals:
    mask: np.ndarray
    reasons: dict[int, str] = field(default_factory=dict)                     # row index -> why it is a total
    mismatches: list[tuple[int, int, float, float]] = field(default_factory=list)  # (row, column, stated, sum)


def find_totals(labels: np.ndarray, counts: list[tuple[int, np.ndarray, np.ndarray]], matcher: Matcher) -> Totals:
    """Walk the rows of a one-row-per-area table; ``counts`` are (column, values, status) of count columns."""
    n = len(labels)
    out = Totals(np.zeros(n, dtype=bool))
    seen: set[str] = set()
    seg: list[int] = []
    areas: list[int] = []
    cache: dict[object, tuple[str | None, str | None, bool]] = {}
    for i in range(n):
        raw = labels[i]
        text = V.cell_text(raw).strip()
        if not text:
            continue
        try:
            sid, kind, word = cache[raw]
        except (KeyError, TypeError):
            sid, kind, word = matcher.match("sozialraum", raw), matcher.total_kind(text), is_total_word(text)
            try:
                cache[raw] = (sid, kind, word)
            except TypeError:
                pass
        reason = None
        if word and sid is None:
            reason, kind = "als Summe bezeichnet", kind or "stadt"
        elif sid is None:
            reason = {"stadt": "Name der Stadt", "bezirk": "Name eines Stadtbezirks"}.get(kind or "")
            if reason is None and len(seg) >= 2 and _equals_sum(i, seg, counts):  # "Bezirk 3" unknown as a name
                reason = "Werte = Summe der Zeilen darüber"
        elif sid in seen:
            reason = "Name kommt schon weiter oben vor"
        elif len(seg) >= 2 and _equals_sum(i, seg, counts):
            reason = "Werte = Summe der Zeilen darüber"
        if reason is None:
            if sid is not None:
                seen.add(sid)
                seg.append(i)
                areas.append(i)
            continue
        out.mask[i] = True
        out.reasons[i] = reason
        _check(out, i, areas if kind == "stadt" else seg, counts)
        seg = []
    return out


def _equals_sum(i: int, seg: list[int], counts: list[tuple[int, np.ndarray, np.ndarray]]) -> bool:
    tested = False
    for _c, vals, st in counts:
        if st[i] != V.OK or (st[seg] != V.OK).any():
            continue
        if abs(float(vals[seg].sum()) - float(vals[i])) > TOLERANCE or vals[i] == 0:
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
