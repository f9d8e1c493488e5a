"""German number formats and the symbols of official statistics."""

from __future__ import annotations

import math

SUPPRESSED = "•"   # gesperrt (small numbers)
NOTHING = "–"      # no value
NOT_SENSIBLE = "x"
MAX_DECIMALS = 4   # the catalogue field ``dezimalstellen`` takes 0..MAX_DECIMALS


def _is_missing(v) -> bool:
    if v is None or type(v).__name__ in ("NAType", "NaTType"):  # pandas' NA/NaT without importing pandas
        return True
    try:
        return (isinstance(v, float) and math.isnan(v)) or bool(v != v)  # noqa: PLR0124
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


def _is_count(unit: str | None) -> bool:
    return (unit or "").strip().lower() == "anzahl"


def decimals_for(unit: str | None = None, places=None) -> int:
    """The decimals an indicator is shown with everywhere (tables, charts, tooltips, PDF, exports):
    its catalogue field ``dezimalstellen`` (``places``) when set, else by unit: counts 0, rates and the rest 1."""
    if places is not None and not _is_missing(places):
        try:
            return max(0, min(int(places), MAX_DECIMALS))
        except (TypeError, ValueError):
            pass
    return 0 if _is_count(unit) else 1


def d3_format(decimals_: int) -> str:
    """The d3 number format (Vega-Lite/Altair axes and tooltips, with the German locale) for ``decimals_``."""
    return f",.{max(0, int(decimals_))}f"


def value(v, unit: str | None = None, decimals: int | None = None, suppressed: bool = False) -> str:
    """A value with its unit in German format: '12,5 %', '34,1 je 1.000', '1.234'.

    ``decimals``: the indicator's decimals (:func:`decimals_for`); ``None`` = the default for the unit.
    """
    if suppressed:
        return SUPPRESSED
    if _is_missing(v):
        return NOTHING
    u = (unit or "").strip()
    d = decimals_for(unit) if decimals is None else decimals
    text = number(v, d)
    if _is_count(u):
        return text
    return f"{text} %" if u == "%" else (f"{text} {u}" if u else text)


def change(v, unit: str | None = None, decimals: int | None = None) -> str:
    """A signed change: '+1,2 Pp.' for percentages (percentage points); ``decimals`` as in :func:`value`."""
    if _is_missing(v):
        return NOTHING
    u = (unit or "").strip()
    text = number(abs(v), decimals_for(unit) if decimals is None else decimals)
    sign = "±" if is_zero_text(text) else ("+" if v > 0 else "−")
    suffix = " Pp." if u == "%" else (f" {u}" if u and u.lower() != "anzahl" else "")
    return f"{sign}{text}{suffix}"
