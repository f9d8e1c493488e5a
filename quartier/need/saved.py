"""The Handlungsbedarf class per Sozialraum for other analyses (e.g. need x supply of offers).

Source: the newest stored (published) result for the year; without one, the newest saved method computed for
that year. Staff get the stored classes; a viewer gets the classes computed from the protected values
(``compute(..., actor=actor)``), never the stored staff result.
"""

from __future__ import annotations

import json

from quartier.access import Actor
from quartier.need.compute import compute
from quartier.need.method import MethodError, methods


def need_classes(con, year: int, *, actor: Actor) -> tuple[dict[str, str | None], dict[str, int], list[str], str]:
    """(class label per area, class rank per area (higher = more need), labels in rank order, source text).
    Empty dicts when there is no saved method."""
    row = con.cursor().execute("SELECT ergebnis, titel FROM index_ergebnis WHERE jahr = ? ORDER BY id DESC LIMIT 1",
                               [int(year)]).fetchone()
    if row:
        stored = json.loads(row[0])
        method = stored["method"]
        classes = list(method.get("classes") or [])
        source = f"{method.get('name')} {year}" + (f" ({row[1]})" if row[1] else "")
        if actor.can_see_raw:
            label = {a["id"]: a["class"] for a in stored["sozialraeume"]}
            return label, {k: classes.index(v) for k, v in label.items() if v in classes}, classes, source
        return _computed(con, method, year, source, actor)
    ms = methods(con)
    if ms.empty:
        return {}, {}, [], ""
    m = ms.sort_values("erstellt_am").iloc[-1]["methode"]
    return _computed(con, m, year, f"{m.name} {year}", actor)


def _computed(con, method, year: int, source: str, actor: Actor):
    try:
        res = compute(con, method, int(year), with_robustness=False, actor=actor)
    except MethodError:
        return {}, {}, [], ""
    classes = list(res.method.classes)
    label, rank = {}, {}
    for i, aid in enumerate(res.areas["id"]):
        k = int(res.klass[i])
        label[aid] = classes[k] if k >= 0 else None
        if k >= 0:
            rank[aid] = k
    return label, rank, classes, source
