"""Frames for exports: the current values in the importer's column names."""

from __future__ import annotations

import pandas as pd

from quartier.access import PUBLIC, SYSTEM, Actor, PermissionDenied
from quartier.errors import QuartierError
from quartier.values import indicators, query

VALUE_COLUMNS = ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt", "lieferung_id", "lieferung",
                 "ki_unten", "ki_oben"]


def _with_interval(con, out: pd.DataFrame) -> pd.DataFrame:
    """Append ``ki_unten``/``ki_oben`` (95 % interval, :mod:`quartier.values.uncertainty`) from the frame's own
    (already protected, where protection applies) values: empty where no interval applies."""
    from quartier.values import uncertainty

    unit_of = dict(zip(*[indicators.catalogue(con)[c] for c in ("id", "einheit")]))
    lo, hi = uncertainty.round_interval(*uncertainty.interval_frame(out, unit_of))
    return out.assign(ki_unten=pd.array(lo, dtype="Float64"), ki_oben=pd.array(hi, dtype="Float64"))


def values_frame(con, *, actor: Actor, gebietsstand: str = "aktuell") -> pd.DataFrame:
    """Current values, one row per indicator, Sozialraum and year (raw: for users allowed to see them).

    ``gebietsstand`` "aktuell": on today's Sozialräume, values of an earlier Gebietsstand re-allocated
    (``umgerechnet`` 1, ``umrechnung`` the method); "original": as delivered, with their ``gebietsstand``."""
    if not actor.can_see_raw:
        raise PermissionDenied(f"{actor.name} darf die Rohwerte nicht exportieren; bitte die geschützte Fassung wählen.")
    if gebietsstand == "original":
        out = query.original_raw(con, actor=actor)
    else:
        v = indicators.current_values(con, actor=actor)
        out = v[["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt", "lieferung_id", "lieferung",
                 "umgerechnet", "umrechnung_grund"]].copy()
        out = _mark(out)
    out["gesperrt"] = out["gesperrt"].astype(bool).astype(int)
    for col in ("zaehler", "nenner"):
        s = out[col].astype("Float64")
        whole = s.dropna()
        out[col] = s.astype("Int64") if (whole == whole.round()).all() else s
    return _with_interval(con, out.reset_index(drop=True))


PUBLIC_COLUMNS = ["ebene", "indikator_id", "stadtbezirk_id", "stadtbezirk", "sozialraum_id", "sozialraum", "jahr",
                  "wert", "zaehler", "nenner", "gesperrt", "sperrgrund"]
PUBLIC_EXPORT_COLUMNS = PUBLIC_COLUMNS + ["ki_unten", "ki_oben"]


def _mark(out: pd.DataFrame) -> pd.DataFrame:
    """``umgerechnet`` 0/1 plus the method (``umrechnung``) and why a re-allocated value stayed empty."""
    method = out.pop("umgerechnet")
    reason = out.pop("umrechnung_grund")
    out["umgerechnet"] = method.notna().astype(int)
    out["umrechnung"] = method.where(method.notna(), reason.where(reason.notna(), None))
    return out


def _public_flags(con, out: pd.DataFrame, indicator_ids: list[str] | None, years: list[int] | None) -> pd.Series:
    """1 where a cell holds values re-allocated from an earlier Gebietsstand (a label, not a figure):
    Sozialraum rows by their own value, Stadtbezirk and city rows when any of the year's values is."""
    if query.current_source(con) == "messwert_aktuell":
        return pd.Series(0, index=out.index)
    flags = query.current_raw(con, indicator_ids, years, actor=SYSTEM)
    flags = flags.loc[flags["umgerechnet"].notna(), ["indikator_id", "sozialraum_id", "jahr"]]
    cells = flags.assign(_c=1).drop_duplicates()
    pairs = flags[["indikator_id", "jahr"]].drop_duplicates().assign(_p=1)
    key = out[["indikator_id", "sozialraum_id", "jahr"]].astype({"jahr": "int64"})
    m = key.merge(cells.astype({"jahr": "int64"}), how="left", on=["indikator_id", "sozialraum_id", "jahr"])
    m = m.merge(pairs.astype({"jahr": "int64"}), how="left", on=["indikator_id", "jahr"])
    flag = m["_c"].where(key["sozialraum_id"].notna().to_numpy(), m["_p"]).fillna(0).astype(int)
    return pd.Series(flag.to_numpy(), index=out.index)


def public_values_frame(con, indicator_ids: list[str] | None = None, years: list[int] | None = None,
                        gebietsstand: str = "aktuell") -> pd.DataFrame:
    """What a viewer without the right to raw values may see: Sozialraum rows and, as their own rows,
    the Stadtbezirk and city totals; every protected cell has ``gesperrt`` 1 and empty value/numerator."""
    from quartier.values.protection import protected_table

    if gebietsstand != "aktuell":
        raise QuartierError("Die geschützte Fassung gibt es nur auf den heutigen Sozialräumen (--gebietsstand aktuell).")
    t = protected_table(con, indicator_ids, years, actor=PUBLIC)
    out = t[PUBLIC_COLUMNS].copy()
    out["umgerechnet"] = _public_flags(con, out, indicator_ids, years)
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
