"""Frames for exports: the current values in the importer's column names."""

from __future__ import annotations

import pandas as pd

from quartier.access import PUBLIC, Actor, PermissionDenied
from quartier.values import indicators

VALUE_COLUMNS = ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt", "lieferung_id", "lieferung",
                 "ki_unten", "ki_oben"]


def _with_interval(con, out: pd.DataFrame) -> pd.DataFrame:
    """Append ``ki_unten``/``ki_oben`` (95 % interval, :mod:`quartier.values.uncertainty`) from the frame's own
    (already protected, where protection applies) values: empty where no interval applies."""
    from quartier.values import uncertainty

    unit_of = dict(zip(*[indicators.catalogue(con)[c] for c in ("id", "einheit")]))
    lo, hi = uncertainty.round_interval(*uncertainty.interval_frame(out, unit_of))
    return out.assign(ki_unten=pd.array(lo, dtype="Float64"), ki_oben=pd.array(hi, dtype="Float64"))


def values_frame(con, *, actor: Actor) -> pd.DataFrame:
    """Current values, one row per indicator, Sozialraum and year (raw: for users allowed to see them)."""
    if not actor.can_see_raw:
        raise PermissionDenied(f"{actor.name} darf die Rohwerte nicht exportieren; bitte die geschützte Fassung wählen.")
    v = indicators.current_values(con, actor=actor)
    out = v[["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt", "lieferung_id", "lieferung"]].copy()
    out["gesperrt"] = out["gesperrt"].astype(bool).astype(int)
    for col in ("zaehler", "nenner"):
        s = out[col].astype("Float64")
        whole = s.dropna()
        out[col] = s.astype("Int64") if (whole == whole.round()).all() else s
    return _with_interval(con, out.reset_index(drop=True))


PUBLIC_COLUMNS = ["ebene", "indikator_id", "stadtbezirk_id", "stadtbezirk", "sozialraum_id", "sozialraum", "jahr",
                  "wert", "zaehler", "nenner", "gesperrt", "sperrgrund"]
PUBLIC_EXPORT_COLUMNS = PUBLIC_COLUMNS + ["ki_unten", "ki_oben"]


def public_values_frame(con, indicator_ids: list[str] | None = None, years: list[int] | None = None) -> pd.DataFrame:
    """What a viewer without the right to raw values may see: Sozialraum rows and, as their own rows,
    the Stadtbezirk and city totals; every protected cell has ``gesperrt`` 1 and empty value/numerator."""
    from quartier.values.protection import protected_table

    t = protected_table(con, indicator_ids, years, actor=PUBLIC)
    out = t[PUBLIC_COLUMNS].copy()
    out["gesperrt"] = out["gesperrt"].astype(bool).astype(int)
    for col in ("zaehler", "nenner"):
        s = out[col].astype("Float64")
        whole = s.dropna()
        out[col] = s.astype("Int64") if (whole == whole.round()).all() else s
    order = {"Sozialraum": 0, "Stadtbezirk": 1, "Stadt": 2}
    out = out.assign(_o=out["ebene"].map(order)).sort_values(["indikator_id", "jahr", "_o", "stadtbezirk_id", "sozialraum_id"],
                                                               na_position="last", kind="stable")
    out = out.drop(columns="_o").reset_index(drop=True)
    # intervals from what the viewer sees: a protected cell has no numerator, hence no interval
    out.loc[out["gesperrt"] == 1, ["wert", "zaehler"]] = pd.NA
    return _with_interval(con, out)
