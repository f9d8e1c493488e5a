"""Units of indicators: the one place that decides whether an indicator is a count or a rate.

A *count* (Anzahl, Personen, Fälle, …) is summed over areas and has no denominator; a *rate* is
``numerator / denominator * factor`` with the factor taken from the unit (% -> 100, je 1.000 -> 1000).
"""

from __future__ import annotations

import math

COUNT_UNITS = frozenset({"anzahl", "personen", "fälle", "faelle"})


def _clean(unit: object) -> str:
    if unit is None or (isinstance(unit, float) and math.isnan(unit)):
        return ""
    return str(unit).strip().lower()


def is_count(unit: object) -> bool:
    """True when the unit names a count (summed over areas, no denominator)."""
    return _clean(unit) in COUNT_UNITS


def rate_factor(unit: object) -> float:
    """Factor from numerator/denominator to the indicator's unit (1 for counts and unknown units)."""
    u = _clean(unit)
    if u == "%":
        return 100.0
    if "1.000" in u or "1000" in u or u == "‰":
        return 1000.0
    return 1.0
