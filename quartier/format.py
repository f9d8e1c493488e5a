"""German number formats and the symbols of official statistics."""

from __future__ import annotations

import math

SUPPRESSED = "•"   # gesperrt (small numbers)
NOTHING = "–"      # no value
NOT_SENSIBLE = "x"


def _is_missing(v) -> bool:
    try:
        return v is None or (isinstance(v, float) and math.isnan(v)) or v != v  # noqa: PLR0124
    except (TypeError, ValueError):
        return False


def number(v, decimals: int = 1) -> str:
    """12.5 -> '12,5'; 1234 -> '1.234' (decimals=0)."""
    if _is_missing(v):
        return NOTHING
    x = round(float(v), decimals)
    if x == 0:
        x = 0.0  # no "-0,0": a value that rounds to zero has no sign
    s = f"{x:,.{decimals}f}"
    return s.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def integer(v) -> str:
    return number(v, 0)


def value(v, unit: str | None = None, decimals: int = 1, suppressed: bool = False) -> str:
    """A value with its unit in German format: '12,5 %', '34,1 je 1.000', '1.234'."""
    if suppressed:
        return SUPPRESSED
    if _is_missing(v):
        return NOTHING
    u = (unit or "").strip()
    if u.lower() == "anzahl":
        return integer(v)
    text = number(v, decimals)
    return f"{text} %" if u == "%" else (f"{text} {u}" if u else text)


def change(v, unit: str | None = None, decimals: int = 1) -> str:
    """A signed change: '+1,2 Pp.' for percentages (percentage points)."""
    if _is_missing(v):
        return NOTHING
    u = (unit or "").strip()
    shown = round(float(v), 0 if u.lower() == "anzahl" else decimals)
    sign = "+" if shown > 0 else ("−" if shown < 0 else "±")
    text = number(abs(v), 0 if u.lower() == "anzahl" else decimals)
    suffix = " Pp." if u == "%" else (f" {u}" if u and u.lower() != "anzahl" else "")
    return f"{sign}{text}{suffix}"
