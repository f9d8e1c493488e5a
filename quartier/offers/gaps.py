"""Need x supply: which areas have high need and low supply ("Versorgungslücken"), in a table and a sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quartier import db
from quartier import format as fmt
from quartier.access import Actor
from quartier.offers.supply import Need, Supply
from quartier.values import indicators

LOW_REACH = 0.5  # below half of the area within reach counts as low reach


def need_from_indicator(con: db.Con, indicator: str, year: int, *, actor: Actor) -> Need:
    """Need from one indicator: terciles (niedrig / mittel / hoch) oriented by the indicator's direction,
    computed from the values this actor may see (protected for viewers)."""
    import mapclassify

    vals = indicators.current_values(con, [indicator], [int(year)], actor=actor)
    row = con.cursor().execute("SELECT name, richtung FROM indikator WHERE id = ?", [indicator]).fetchone()
    if vals.empty or not row:
        return Need(source=f"{indicator} (keine Werte {year})")
    v = vals.copy()
    if "gesperrt" in v:
        v = v[~v["gesperrt"].fillna(False).astype(bool)]
    v = v.dropna(subset=["wert"])
    s = pd.Series(v["wert"].astype(float).to_numpy(), index=v["sozialraum_id"])
    if row[1] == "lower":
        s = -s
    order = ["niedrig", "mittel", "hoch"]
    if len(s.unique()) < 3:
        return Need(source=f"{row[0]} {year}")
    q = mapclassify.Quantiles(s.to_numpy(), k=3)
    ranks = {i: int(b) for i, b in zip(s.index, q.yb)}
    return Need({i: order[r] for i, r in ranks.items()}, ranks, order, f"{row[0]} {year} (Drittel)")


def gaps(res: Supply, need: Need) -> pd.DataFrame:
    """Areas in the upper half of the need classes whose places per 100 are below the city value or whose reach
    is below one half; most need first, then least reach."""
    t = res.table.copy()
    if not need.order or t["bedarf_rang"].isna().all():
        return t.iloc[0:0]
    top = len(need.order) // 2
    high = t["bedarf_rang"].notna() & (t["bedarf_rang"].astype(float) >= top)
    city = res.stadt.get("plaetze_je_100")
    low_places = t["plaetze_je_100"].notna() & (t["plaetze_je_100"] < city) if city is not None else pd.Series(False, index=t.index)
    low = low_places | (t["erreichbar_anteil"] < LOW_REACH) | (t["angebote"] == 0)
    out = t[high & low].sort_values(["bedarf_rang", "erreichbar_anteil"], ascending=[False, True])
    return out.reset_index(drop=True)


def gaps_sentence(res: Supply, need: Need, table: pd.DataFrame) -> str:
    if not need.order:
        return "Ohne Handlungsbedarf-Ergebnis oder Bedarfsindikator lassen sich keine Versorgungslücken bestimmen."
    if table.empty:
        return (f"Kein Sozialraum mit hohem Bedarf ({need.source}) ist bei „{res.kategorie}“ {res.jahr} zugleich schlecht "
                "versorgt.")
    names = [f"{r['name']} ({fmt.number(r['erreichbar_anteil'] * 100, 0)} % erreichbar"
             + (f", {fmt.number(r['plaetze_je_100'])} Plätze je 100" if not _nan(r["plaetze_je_100"]) else "") + ")"
             for r in table.head(5).to_dict("records")]
    more = f" und {len(table) - 5} weitere" if len(table) > 5 else ""
    n = len(table)
    return (f"{n} Sozialr{'aum' if n == 1 else 'äume'} mit hohem Bedarf ({need.source}) "
            f"{'ist' if n == 1 else 'sind'} bei „{res.kategorie}“ {res.jahr} unterdurchschnittlich versorgt: "
            + ", ".join(names) + more + ".")


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))
