"""Handlungsempfehlungen: Wirkungsblick (indicator development in the target Sozialräume vs. the rest of the city)."""

from __future__ import annotations

import pandas as pd

from quartier import format as fmt
from quartier.access import Actor
from quartier.actions import store
from quartier.actions.model import CatalogueError
from quartier.values import indicators

# --------------------------------------------------------------------------------------------
# Wirkungsblick


LIMITS_STATEMENT = (
    "Was die Daten zeigen können: wie sich die Kennzahl in den Ziel-Sozialräumen vor und nach dem Start der "
    "Maßnahme entwickelt hat, verglichen mit der übrigen Stadt. Was sie nicht zeigen können: ob die Maßnahme "
    "die Veränderung bewirkt hat. Die übrige Stadt ist keine Kontrollgruppe; gleichzeitige Entwicklungen "
    "(Zuzug, Konjunktur, andere Angebote, geänderte Erhebung), kleine Fallzahlen und Zufallsschwankungen "
    "können Unterschiede ebenso erklären. Kennzahlen reagieren oft erst Jahre später."
)


def effect(con, rec_id: str, *, actor: Actor, years_before: int = 3) -> dict:
    """Wirkungsblick data: pooled indicator values in the target Sozialräume vs. the rest of the city.

    Returns {"start", "start_quelle", "start_jahr", "ziel", "hinweise", "indikatoren": [{id, name, einheit,
    richtung, reihe (DataFrame jahr/gruppe/wert/zaehler/nenner), vorher/nachher per group, aussage}], "grenzen"}.
    Years before the start year count as "vorher" (at most ``years_before``), years after it as "nachher";
    the start year itself is a transition year and belongs to neither.
    """
    rec = store.get(con, rec_id, actor=actor)
    if rec is None:
        raise CatalogueError(f"Handlungsempfehlung {rec_id} gibt es nicht.")
    out = {"id": rec_id, "titel": rec["titel"], "ziel": rec["sozialraeume"], "indikatoren": [], "hinweise": [],
           "grenzen": LIMITS_STATEMENT}
    start, source = (rec["beginn_ist"], "tatsächlicher Beginn") if rec["beginn_ist"] else (rec["beginn_geplant"], "geplanter Beginn")
    out["start"], out["start_quelle"] = start, source
    out["start_jahr"] = start.year if start else None
    if start is None:
        out["hinweise"].append("Die Empfehlung hat noch kein Startdatum: ohne Start gibt es kein Vorher und Nachher.")
    if not rec["indikatoren"]:
        out["hinweise"].append("Der Empfehlung sind keine Kennzahlen zugeordnet.")
    if rec["ebene"] == "stadtweit" or not rec["sozialraeume"]:
        out["hinweise"].append("Die Empfehlung wirkt stadtweit: es gibt keine übrige Stadt zum Vergleich, gezeigt "
                               "wird nur die Entwicklung der Gesamtstadt.")
    if start is None or not rec["indikatoren"]:
        return out
    cat = indicators.catalogue(con).set_index("id")
    values = indicators.current_values(con, rec["indikatoren"], actor=actor)
    target = set(rec["sozialraeume"])
    for iid in rec["indikatoren"]:
        meta = cat.loc[iid]
        unit, direction = meta["einheit"], meta["richtung"]
        dec = fmt.decimals_for(unit, meta.get("dezimalstellen"))  # catalogue ``dezimalstellen``, else by unit
        v = values[values["indikator_id"] == iid].copy()
        if target and rec["ebene"] != "stadtweit":
            v["gruppe"] = v["sozialraum_id"].map(lambda s: "Ziel-Sozialräume" if s in target else "übrige Stadt")
        else:
            v["gruppe"] = "Gesamtstadt"
        series = indicators.aggregate(v, unit, ["gruppe", "jahr"]) if not v.empty else pd.DataFrame(
            columns=["gruppe", "jahr", "wert", "zaehler", "nenner", "n"])
        y0 = out["start_jahr"]
        before_years = sorted(y for y in series["jahr"].unique() if y < y0)[-years_before:]
        after_years = sorted(y for y in series["jahr"].unique() if y > y0)
        periods = {}
        for grp in series["gruppe"].unique():
            part = v[v["gruppe"] == grp]
            pb = indicators.aggregate(part[part["jahr"].isin(before_years)].assign(g=1), unit, ["g"]) if before_years else None
            pa = indicators.aggregate(part[part["jahr"].isin(after_years)].assign(g=1), unit, ["g"]) if after_years else None
            periods[grp] = {
                "vorher": None if pb is None or pb.empty else _f(pb["wert"].iloc[0]),
                "nachher": None if pa is None or pa.empty else _f(pa["wert"].iloc[0]),
                "basis_vorher": None if pb is None or pb.empty else _f(pb["nenner"].iloc[0]),
                "basis_nachher": None if pa is None or pa.empty else _f(pa["nenner"].iloc[0]),
            }
            periods[grp]["veraenderung"] = (None if periods[grp]["vorher"] is None or periods[grp]["nachher"] is None
                                            else periods[grp]["nachher"] - periods[grp]["vorher"])
        statement = _effect_statement(meta["name"], unit, direction, y0, before_years, after_years, periods, dec)
        small = [g for g, p in periods.items()
                 if any(b is not None and b < SMALL_BASE for b in (p["basis_vorher"], p["basis_nachher"]))]
        if small:
            statement += (f" Achtung: kleine Basis ({', '.join(small)}: weniger als {SMALL_BASE} Fälle im Nenner je "
                          "Zeitraum) – schon wenige Fälle verschieben den Wert deutlich.")
        out["indikatoren"].append({
            "id": iid, "name": meta["name"], "kurzname": meta["kurzname"] or meta["name"], "einheit": unit, "dezimalstellen": dec,
            "richtung": direction, "reihe": series,
            "vorher_jahre": before_years, "nachher_jahre": after_years, "perioden": periods, "aussage": statement,
        })
    return out


SMALL_BASE = 100        # pooled denominator below this is flagged as a small base
SAME_DEVELOPMENT = 0.5  # difference of changes (in the indicator's unit) described as "about the same"


def _f(v):
    return None if v is None or pd.isna(v) else float(v)


def year_span(years: list[int]) -> str:
    if not years:
        return "–"
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _effect_statement(name, unit, direction, y0, before, after, periods, dec: int | None = None) -> str:
    """The Wirkungsblick sentence; values with ``dec`` decimals (the indicator's; None = by unit)."""
    if not after:
        return (f"{name}: Für die Jahre nach dem Startjahr {y0} liegen noch keine Werte vor. "
                "Über eine Entwicklung lässt sich noch nichts sagen.")
    if not before:
        return f"{name}: Für die Jahre vor dem Startjahr {y0} liegen keine Werte vor; ein Vorher-Nachher ist nicht möglich."
    parts = []
    for grp, p in periods.items():
        if p["veraenderung"] is None:
            parts.append(f"{grp}: nicht berechenbar (Werte fehlen oder sind geschützt)")
            continue
        parts.append(f"{grp} von {fmt.value(p['vorher'], unit, dec)} ({year_span(before)}) auf {fmt.value(p['nachher'], unit, dec)} "
                     f"({year_span(after)}), {fmt.change(p['veraenderung'], unit, dec)}")
    text = f"{name}: " + "; ".join(parts)
    text = text if text.endswith(".") else text + "."
    t, r = periods.get("Ziel-Sozialräume"), periods.get("übrige Stadt")
    if t and r and t["veraenderung"] is not None and r["veraenderung"] is not None and direction in ("higher", "lower"):
        diff = t["veraenderung"] - r["veraenderung"]
        better = diff < 0 if direction == "higher" else diff > 0
        se = _se_of_difference(unit, t, r)
        if abs(diff) < SAME_DEVELOPMENT:
            text += (" Die Ziel-Sozialräume haben sich etwa wie die übrige Stadt entwickelt "
                     f"(Unterschied unter {fmt.number(SAME_DEVELOPMENT)}).")
        else:
            amount = fmt.change(abs(diff), unit, dec).lstrip("+")
            text += (f" Die Ziel-Sozialräume haben sich um {amount} "
                     f"{'günstiger' if better else 'ungünstiger'} entwickelt als die übrige Stadt "
                     "(gemessen an der Richtung des Indikators).")
            if se is not None and abs(diff) < 2 * se:
                text += (" Der Unterschied liegt innerhalb der Zufallsschwankung, die bei diesen Fallzahlen zu erwarten ist "
                         f"(grobe Abschätzung: ±{fmt.change(2 * se, unit, dec).lstrip('+')}).")
            elif se is not None:
                text += (" Er ist größer als die bei diesen Fallzahlen zu erwartende Zufallsschwankung (grobe Abschätzung: "
                         f"±{fmt.change(2 * se, unit, dec).lstrip('+')}) – ein Hinweis, aber kein Beleg für eine Wirkung.")
            text += " Das ist eine Beschreibung, kein Wirkungsnachweis."
    return text


def _se_of_difference(unit, t: dict, r: dict) -> float | None:
    """Rough standard error of (change in target) - (change in rest) for a rate with pooled bases; None for counts."""
    f = {"%": 100.0}.get((unit or "").strip(), 1000.0 if "1.000" in (unit or "") else None)
    if f is None:
        return None
    var = 0.0
    for p in (t, r):
        for k in ("vorher", "nachher"):
            v, n = p[k], p[f"basis_{k}"]
            if v is None or not n:
                return None
            q = min(max(v / f, 0.0), 1.0)
            var += q * (1 - q) / n * f * f
    return var ** 0.5

