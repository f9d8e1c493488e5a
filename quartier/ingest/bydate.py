"""Deliveries keep the Gebietsstand they were delivered in, "by date" (Issue 19).

When no Gebietsstand is chosen at import, a delivery whose areas are not today's Sozialräume but those of an earlier
Gebietsstand, and whose years all lie before today's Gebietsstand became valid, was delivered in that earlier
Gebietsstand: it is stored there and re-allocated to today's areas (as with ``import --gebietsstand V``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from quartier import db
from quartier.ingest.analysis import FileAnalysis
from quartier.ingest.pipeline import analyse_and_compare

UNKNOWN_AREA = "unbekannt_sozialraum"


@dataclass
class ByDate:
    gebietsstand: int
    analysis: FileAnalysis
    message: str


def _area_errors(fa: FileAnalysis) -> bool:
    return any(f.rule == UNKNOWN_AREA for f in fa.errors)


def _years(fa: FileAnalysis) -> list[int]:
    v = fa.values
    if v.empty or "jahr" not in v:
        return []
    return sorted({int(y) for y in v["jahr"].dropna()})


def older_version(con: db.Con, data: bytes, filename: str, current: FileAnalysis, **kw: Any) -> ByDate | None:
    """The earlier Gebietsstand ``current`` (the analysis on today's areas) was delivered in, else None.

    Only when today's areas do not fit (unknown Sozialräume), the areas of an earlier Gebietsstand fit all rows
    (the newest such one wins) and every year of the delivery lies before today's Gebietsstand's ``gueltig_ab``.
    ``kw``: the same arguments as the analysis of ``current`` (lieferant, plans, ...), without ``gebietsstand``."""
    if current.gebietsstand is not None or not current.readable or current.duplicate or not _area_errors(current):
        return None
    rows = con.cursor().execute("SELECT id, name, gueltig_ab FROM gebietsstand ORDER BY id").fetchall()
    if len(rows) < 2:
        return None
    today_from: dt.date = rows[-1][2]
    for vid, name, valid_from in reversed(rows[:-1]):
        fa = analyse_and_compare(con, data, filename, gebietsstand=int(vid), **kw)
        years = _years(fa)
        if not fa.readable or _area_errors(fa) or not years or years[-1] >= today_from.year:
            continue
        span = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
        message = (f"Die Sozialräume der Lieferung „{filename}“ sind die des Gebietsstands {vid} ({name}, gültig ab "
                   f"{valid_from:%d.%m.%Y}), nicht die heutigen, und ihre Jahre ({span}) liegen vor "
                   f"dem {today_from:%d.%m.%Y}: sie wird nach Datum dem Gebietsstand {vid} zugeordnet, so gespeichert "
                   "und auf die heutigen Sozialräume umgerechnet.")
        return ByDate(int(vid), fa, message)
    return None
