"""German number parsing, vectorised: ``12,5``, ``12.5``, ``1.234``, ``12,5 %``, text numbers and marks.

Marks as in official statistics: ``*``, ``.``, ``•`` = suppressed (stored as suppressed, never 0);
``–``, ``-``, ``x`` = nothing / not sensible (no value, never 0).
A dot followed by groups of exactly three digits (``1.234``, ``12.345,6``) is a thousands separator,
as German spreadsheets write it; any other single dot is a decimal point (``12.5``, ``0.125``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

OK, EMPTY, SUPPRESSED, NOTHING, INVALID = 0, 1, 2, 3, 4
SUPPRESSED_MARKS = ("*", ".", "•", "·", "(*)")
NOTHING_MARKS = ("–", "-", "—", "x", "X")
_THOUSANDS = r"^-?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$"


K_NUM, K_EMPTY, K_STR, K_OTHER = 0, 1, 2, 3


def _kind(v: Any) -> int:
    t = type(v)
    if t is float:
        return K_NUM if v == v else K_EMPTY
    if t is str:
        return K_STR if v.strip() else K_EMPTY
    if t is int:
        return K_NUM
    if v is None:
        return K_EMPTY
    if t is bool:
        return K_OTHER
    if isinstance(v, (int, float, np.integer, np.floating)):
        return K_NUM if v == v else K_EMPTY
    return K_OTHER


kind_of = _kind   # the kind of one cell, as :func:`classify` finds it cell by cell

NUMERIC_TYPES = ("floating", "integer", "mixed-integer-float", "decimal")


def classify(values: Any) -> np.ndarray:
    """Number, empty, text or other (dates, booleans, errors) per raw cell.

    Fast paths in C (pandas' type inference) for the usual columns: all numbers, all text, or numbers
    with empty cells; anything else is classified cell by cell.
    """
    arr = values if isinstance(values, np.ndarray) and values.dtype == object else np.array(list(values), dtype=object)
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    inferred = pd.api.types.infer_dtype(arr, skipna=True)
    if inferred in NUMERIC_TYPES:  # numbers and NaN/None only
        return np.where(pd.isna(arr), K_EMPTY, K_NUM).astype(np.int8)
    if inferred == "string":        # text and NaN/None only
        if pd.api.types.infer_dtype(arr, skipna=False) == "string":  # text only, not one None/NaN: no missing-value test
            return np.where(arr == "", K_EMPTY, K_STR).astype(np.int8)
        return np.where(pd.isna(arr) | (arr == ""), K_EMPTY, K_STR).astype(np.int8)
    if inferred == "empty":
        return np.full(n, K_EMPTY, dtype=np.int8)
    blank = pd.isna(arr) | (arr == "")
    rest = arr[~blank]
    if pd.api.types.infer_dtype(rest, skipna=False) in NUMERIC_TYPES:  # numbers with empty text cells
        return np.where(blank, K_EMPTY, K_NUM).astype(np.int8)
    return np.fromiter(map(_kind, arr), dtype=np.int8, count=n)


def parse_numbers(values: Any, kind: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return (float values, status codes) for a sequence of raw cell values (or floats: NaN is an empty cell)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":  # numbers already (e.g. the years of a sheet)
        floats = values.astype(float)
        return floats, np.where(np.isnan(floats), EMPTY, OK).astype(np.int8)
    arr = values if isinstance(values, np.ndarray) and values.dtype == object else np.array(list(values), dtype=object)
    n = len(arr)
    if n and kind is not None and kind.strides == (0,) and kind[0] == K_EMPTY:
        # a field no record has (kinds given as one value viewed n times): one read-only NaN / EMPTY viewed n times
        return np.broadcast_to(np.float64(np.nan), (n,)), np.broadcast_to(np.int8(EMPTY), (n,))
    out = np.full(n, np.nan)
    status = np.full(n, EMPTY, dtype=np.int8)
    if n == 0:
        return out, status
    if kind is None:
        kind = classify(arr)
    num = kind == K_NUM
    if num.all():
        return arr.astype(float), np.full(n, OK, dtype=np.int8)
    if num.any():
        out[num] = arr[num].astype(float)
        status[num] = OK
    status[kind == K_OTHER] = INVALID  # dates, booleans, errors
    strs = kind == K_STR
    if strs.any():
        idx = np.flatnonzero(strs)
        t = pd.Series(arr[idx], dtype=object).str.replace("\u00a0", "", regex=False).str.replace("\u202f", "", regex=False).str.strip()
        st = np.full(len(t), INVALID, dtype=np.int8)
        blank = (t == "").to_numpy(dtype=bool)
        st[blank] = EMPTY
        supp = t.isin(SUPPRESSED_MARKS).to_numpy()
        nothing = t.isin(NOTHING_MARKS).to_numpy()
        st[supp] = SUPPRESSED
        st[nothing] = NOTHING
        rest = ~(supp | nothing | blank)
        vals = np.full(len(t), np.nan)
        if rest.any():
            r = t[rest].str.replace(r"\s*(%|‰|v\.\s*H\.)$", "", regex=True).str.replace(" ", "", regex=False)
            r = r.str.replace("−", "-", regex=False).str.replace("'", "", regex=False)
            thousands = r.str.match(_THOUSANDS).to_numpy(dtype=bool)
            cleaned = r.where(~thousands, r.str.replace(".", "", regex=False))
            has_comma = cleaned.str.contains(",", regex=False).to_numpy(dtype=bool)
            has_dot = cleaned.str.contains(".", regex=False).to_numpy(dtype=bool)
            cleaned = cleaned.str.replace(",", ".", regex=False)
            parsed = np.array(pd.to_numeric(cleaned, errors="coerce"), dtype=float)
            bad = (has_comma & has_dot) | ~np.isfinite(parsed)
            parsed[bad] = np.nan
            vals[rest] = parsed
            st[rest] = np.where(bad, INVALID, OK).astype(np.int8)
        out[idx] = vals
        status[idx] = st
    return out, status


def is_empty(values: Any) -> np.ndarray:
    """True where a raw cell is empty (None, NaN or blank text)."""
    return np.fromiter((v is None or (type(v) is float and v != v) or (type(v) is str and not v.strip()) for v in values),
                       dtype=bool, count=len(values))


def cell_text(v: Any) -> str:
    """A raw cell as the user typed it (for messages)."""
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def col_letter(c: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def cell_address(row0: int, col0: int) -> str:
    return f"{col_letter(col0)}{row0 + 1}"
