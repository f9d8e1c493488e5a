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


_GERMAN = str.maketrans({",": ".", ".": ","})


def number(v, decimals: int = 1) -> str:
    """12.5 -> '12,5'; 1234 -> '1.234' (decimals=0)."""
    if _is_missing(v):
        return NOTHING
    s = f"{float(v):,.{decimals}f}".translate(_GERMAN)  # one pass (called ~10^5 times for the Hinweise)
    return unsigned_zero(s) if s[:1] == "-" else s


def is_zero_text(text: str) -> bool:
    """'0,00', '-0,0' -> True: the text shows no digit but zeros."""
    return not any(c in "123456789" for c in text)


def unsigned_zero(text: str) -> str:
    """No '-0,0': a value that rounds to zero is shown without a sign."""
    return text.lstrip("-−") if is_zero_text(text) else text


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
    text = number(abs(v), 0 if u.lower() == "anzahl" else decimals)
    sign = "±" if is_zero_text(text) else ("+" if v > 0 else "−")
    suffix = " Pp." if u == "%" else (f" {u}" if u and u.lower() != "anzahl" else "")
    return f"{sign}{text}{suffix}"
