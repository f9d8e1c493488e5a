"""Frames for exports: the current values in the importer's column names."""

from __future__ import annotations

import pandas as pd

from quartier import indicators

VALUE_COLUMNS = ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt", "lieferung_id", "lieferung"]


def values_frame(con) -> pd.DataFrame:
    """Current values, one row per indicator, Sozialraum and year (raw: for users allowed to see them)."""
    v = indicators.current_values(con)
    out = v[["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt", "lieferung_id", "lieferung"]].copy()
    out["gesperrt"] = out["gesperrt"].astype(bool).astype(int)
    for col in ("zaehler", "nenner"):
        s = out[col].astype("Float64")
        whole = s.dropna()
        out[col] = s.astype("Int64") if (whole == whole.round()).all() else s
    return out.reset_index(drop=True)
