"""Small-number protection for users without the right to see raw values.

Primary suppression: a value whose numerator (or, for counts, the value itself) is below the minimum
case count, or that the source suppressed, is shown as suppressed. Secondary suppression (so that a
suppressed value cannot be recovered from district or city totals) is refined in the access-control issue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def primary_mask(values: pd.DataFrame, min_cases: int) -> pd.Series:
    """True where a value must be suppressed on its own."""
    num = values["zaehler"]
    small_num = num.notna() & (num < min_cases) & (num > 0)
    return values["gesperrt"].fillna(False).astype(bool) | small_num


def protect_values(values: pd.DataFrame, min_cases: int) -> pd.DataFrame:
    """Return a copy where protected cells have ``gesperrt`` True and empty value/numerator."""
    out = values.copy()
    mask = primary_mask(out, min_cases)
    out["gesperrt"] = mask
    out.loc[mask, ["wert", "zaehler"]] = np.nan
    return out
