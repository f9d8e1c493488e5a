"""What a report covers (city, Stadtbezirk, Sozialraum) and the protected values it is built from.

Values always come from :func:`quartier.values.protection.protected_table` with the caller's actor: for
actors who may not see raw values, protected values are never shown ("•"), and an aggregate (district,
city) that contains a protected Sozialraum is protected too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from quartier import db
from quartier.access import Actor
from quartier.errors import QuartierError
from quartier.names import normalize
from quartier.values import indicators

KIND_LABEL = {"stadt": "Gesamtstadt", "bezirk": "Stadtbezirk", "sozialraum": "Sozialraum"}


class ReportError(QuartierError):
    """A report cannot be made; the message says why and what to do (German)."""


class ScopeError(ReportError):
    """Unknown district or Sozialraum; ``valid`` lists the accepted choices."""

    def __init__(self, message: str, valid: list[str]):
        super().__init__(message)
        self.valid = valid


@dataclass(frozen=True)
class Scope:
    kind: str                      # 'stadt' | 'bezirk' | 'sozialraum'
    id: str | None
    name: str
    area_ids: tuple[str, ...]
    bezirk_id: str | None = None   # the district of a Sozialraum (or the district itself)
    bezirk_name: str | None = None

    @property
    def title(self) -> str:
        return {"stadt": "Stadtbericht", "bezirk": "Bezirksbericht", "sozialraum": "Sozialraumbericht"}[self.kind]

    @property
    def label(self) -> str:
        return self.name if self.kind != "stadt" else "Gesamtstadt"


# --------------------------------------------------------------------------------------------- scope

def city_scope(con) -> Scope:
    areas = indicators.areas(con)
    return Scope("stadt", None, db.get_setting(con, "stadt", "Stadt") or "Stadt", tuple(areas["id"]))


def bezirk_scope(con, key: str) -> Scope:
    """A Stadtbezirk by id (``nord``), number or name (``Nord``, ``nord ost`` for "Nord-Ost"), tolerant."""
    bz = indicators.bezirke(con)
    want = normalize(key)
    for r in bz.to_dict("records"):
        if want and want in (normalize(r["id"]), normalize(r["name"]), normalize(r["nr"])):
            areas = indicators.areas(con)
            ids = tuple(areas.loc[areas["bezirk_id"] == r["id"], "id"])
            return Scope("bezirk", r["id"], r["name"], ids, r["id"], r["name"])
    valid = [f"{r['id']} ({r['name']})" for r in bz.to_dict("records")]
    raise ScopeError(f"Stadtbezirk „{key}“ ist unbekannt. Möglich sind: {', '.join(valid) or 'keine (noch keine Gebiete eingerichtet)'}.", valid)


def sozialraum_scope(con, key: str) -> Scope:
    areas = indicators.areas(con)
    want = normalize(key)
    for r in areas.to_dict("records"):
        if want and want in (normalize(r["id"]), normalize(r["name"])):
            return Scope("sozialraum", r["id"], r["name"], (r["id"],), r["bezirk_id"], r["bezirk"])
    valid = [f"{r['id']} ({r['name']})" for r in areas.to_dict("records")]
    raise ScopeError(f"Sozialraum „{key}“ ist unbekannt. Möglich sind: {', '.join(valid) or 'keine'}.", valid)


def resolve_scope(con, kind: str, key: str | None = None) -> Scope:
    if kind == "stadt":
        return city_scope(con)
    if kind == "bezirk":
        return bezirk_scope(con, key or "")
    if kind == "sozialraum":
        return sozialraum_scope(con, key or "")
    raise ValueError(kind)


# -------------------------------------------------------------------------------------------- values

def protected_values(con, ids: list[str] | None = None, *, actor: Actor) -> pd.DataFrame:
    """Sozialraum values plus Stadtbezirk and city totals, protected for ``actor``
    (:func:`quartier.protection.protected_table`: primary and secondary suppression, so that the
    totals shown next to a protected Sozialraum never reveal it). ``access.PUBLIC`` is the public view."""
    from quartier.values import protection

    return protection.protected_table(con, ids, actor=actor)


AREA, DISTRICT, CITY = "Sozialraum", "Stadtbezirk", "Stadt"
COVERAGE_COLUMNS = ("gebiete_geliefert", "gebiete_gesamt")


def complete_rows(series: pd.DataFrame) -> pd.DataFrame:
    """The rows of a city/Stadtbezirk series whose coverage is complete (every expected area delivered)."""
    if "gebiete_gesamt" not in series.columns:
        return series
    bad = (series["gebiete_geliefert"] < series["gebiete_gesamt"]).fillna(False).to_numpy(dtype=bool)
    return series[~bad]


def coverage_at(series: pd.DataFrame, year: int | None) -> tuple[int, int] | None:
    """(delivered, expected) when the row of ``year`` is incomplete, else None."""
    if year is None or "gebiete_gesamt" not in series.columns:
        return None
    row = series[series["jahr"] == year]
    if row.empty or pd.isna(row["gebiete_gesamt"].iloc[0]):
        return None
    d, t = int(row["gebiete_geliefert"].iloc[0]), int(row["gebiete_gesamt"].iloc[0])
    return (d, t) if d < t else None


def rank_indicator(con, cat: pd.DataFrame | None = None) -> str | None:
    """The indicator reports rank and map by without a saved index method: from the catalogue, never fixed in code.
    ``cat``: the catalogue already read (indexed by id, as the report's functions hold it), else read here."""
    from quartier.values import indicators

    return indicators.default_indicator(con, cat=None if cat is None else cat.reset_index())


# Sozialraum rows per protected_table call in a district or Sozialraum view (areas x indicators): small cities
# load all their indicators in one call (each call has a fixed cost of a few queries), 10,000 areas one at a time.
AREA_CELLS_PER_CALL = 2_000


def scope_values(con, ids: list[str], scope: Scope, *, actor: Actor, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`protected_values` for a district or Sozialraum view, keeping the Sozialraum rows of the scope's
    areas only (all areas of the ranking indicator, :func:`rank_indicator`, which ranks against the city), and
    every Stadtbezirk and city row; rows per indicator in the order of ``ids``.

    The protection is computed per indicator and year anyway, so the kept cells are the same as in the whole
    table. The indicators are loaded in groups of at most :data:`AREA_CELLS_PER_CALL` Sozialraum rows: at 10,000
    Sozialräume one indicator at a time (the district view then holds a few MB instead of 170 MB, and the peak
    while loading is a seventh), in a small city all at once. ``cat``: the catalogue already read (indexed by id).
    """
    if not ids:
        return protected_values(con, [], actor=actor)
    keep = set(scope.area_ids)
    rank = rank_indicator(con, cat)
    cur = con.cursor()  # never on the shared connection itself: the app's threads use it at the same time
    try:
        n_areas = int(cur.execute("SELECT count(*) FROM sozialraum").fetchone()[0])
    finally:
        cur.close()
    step = max(1, AREA_CELLS_PER_CALL // max(n_areas, 1))
    parts = []
    for start in range(0, len(ids), step):
        group = ids[start:start + step]
        table = protected_values(con, group, actor=actor)
        by_id = table["indikator_id"].to_numpy()
        for iid in group:
            t = table[by_id == iid] if len(group) > 1 else table
            if iid != rank:
                t = t[(t["ebene"] != AREA) | t["sozialraum_id"].isin(keep)]
            parts.append(t)
    return pd.concat(parts, ignore_index=True)


def scope_key(scope: Scope) -> tuple[str, str | None]:
    return {"stadt": (CITY, None), "bezirk": (DISTRICT, scope.id), "sozialraum": (AREA, scope.id)}[scope.kind]


def series(values: pd.DataFrame, key: tuple[str, str | None]) -> pd.DataFrame:
    """Yearly values of one cell of the protected table: (level, Sozialraum/Stadtbezirk id or None)."""
    level, ident = key
    mask = values["ebene"].to_numpy() == level
    if level == AREA:
        mask &= values["sozialraum_id"].to_numpy() == ident
    elif level == DISTRICT:
        mask &= values["stadtbezirk_id"].to_numpy() == ident
    cols = ["jahr", "wert", "zaehler", "nenner", "gesperrt"] + [c for c in COVERAGE_COLUMNS if c in values.columns]
    out = values.loc[mask, cols].copy()
    out["gesperrt"] = out["gesperrt"].fillna(False).astype(bool)
    return out.sort_values("jahr").reset_index(drop=True)


def year_of(series: pd.DataFrame, year: int | None) -> int | None:
    if series.empty:
        return None
    yrs = sorted(int(y) for y in series["jahr"].unique())
    if year is None:
        return yrs[-1]
    cand = [y for y in yrs if y <= int(year)]
    return cand[-1] if cand else None


def value_at(series: pd.DataFrame, year: int | None):
    if year is None or series.empty:
        return None, False
    row = series[series["jahr"] == year]
    if row.empty:
        return None, False
    r = row.iloc[0]
    w = r["wert"]
    return (None if pd.isna(w) else float(w)), bool(r["gesperrt"])
