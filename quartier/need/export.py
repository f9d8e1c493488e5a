"""Index output for people: the method as a table, the ranking with German headers, the .xlsx export."""

from __future__ import annotations

import pandas as pd

from quartier import db
from quartier.access import Actor
from quartier.need.compute import IndexResult, _int, _pct
from quartier.need.explain import indicator_labels, ranking_table
from quartier.need.method import IndexMethod, dynamics_span
from quartier.values import indicators

LIMITS_TEXT = (
    "Der Index ordnet die Sozialräume relativ zueinander: Ein hoher Wert heißt „stärker belastet als die "
    "meisten anderen Sozialräume dieser Stadt bei den gewählten Indikatoren“, nicht „schlecht“ in einem "
    "absoluten Sinn. Er hängt von der Auswahl und Gewichtung der Indikatoren ab (siehe Robustheit), misst "
    "keine Ursachen und keine Wirkung von Maßnahmen, und kleine Unterschiede im Rang sind oft Zufall. "
    "Sozialräume unter der Mindestgröße und solche mit zu vielen fehlenden Werten erhalten bewusst keine "
    "Klasse. Er ist ein Ausgangspunkt für das Fachgespräch mit den Beteiligten vor Ort, kein Ersatz dafür."
)


def method_description(method: IndexMethod, catalogue: pd.DataFrame, year: int | None = None,
                       data_state: list[int] | None = None, con=None) -> pd.DataFrame:
    """The method as a two-column table (Angabe, Wert) for the export and the page."""
    from quartier.format import number

    m = method
    labels = dict(zip(catalogue["id"], catalogue["name"]))
    total = sum(i.weight for i in m.indicators)
    rows = [
        ("Methode", m.name), ("Version", str(m.version or "nicht gespeichert")),
        ("Verfahren", "z-Wert-Index (standardisierte gewichtete Summe)" if m.kind == "zscore"
         else f"Punkteverfahren ({'Quintile' if m.scheme == 'quintile' else 'Rangpunkte'}, 1–5 Punkte)"),
    ]
    if year is not None:
        rows.append(("Indexjahr", str(year)))
    for ind in m.indicators:
        rows.append((
            f"Indikator {ind.id}",
            f"{labels.get(ind.id, ind.id)}; Gewicht {number(ind.weight, 2)} "
            f"({number(ind.weight / total * 100, 1)} %); "
            + ("höherer Wert = mehr Bedarf" if ind.direction == "higher" else "niedrigerer Wert = mehr Bedarf"),
        ))
    cut = m.cutoffs
    rows += [
        ("Mindestgröße", f"{_int(m.min_population)} Einwohner ({m.population_indicator or 'keine Regel'})"),
        ("Höchstens fehlend", f"{_pct(m.max_missing_share)} der Indikatoren"),
        ("Klassengrenzen", "; ".join(number(c, 2) for c in cut)),
        ("Klassen", " < ".join(m.classes)),
        ("Dynamik", f"{dynamics_span(m, year)[0]}–{dynamics_span(m, year)[1]}" if year is not None else str(m.to_dict()["dynamics_years"])),
        ("Dynamik-Grenzen", "; ".join(number(c, 2) for c in m.dynamics_cutoffs)),
        ("Dynamik-Klassen", " < ".join(m.dynamics_classes)),
    ]
    if data_state is not None:
        files = ""
        if con is not None and data_state:
            lf = db.query_df(con, "SELECT id, dateiname FROM lieferung WHERE id IN (SELECT unnest(?)) ORDER BY id",
                             [list(data_state)])
            files = " – " + "; ".join(f"{r['id']}: {r['dateiname']}" for r in lf.to_dict("records"))
        rows.append(("Datenstand (Lieferungen)", ", ".join(map(str, data_state)) + files))
    rows.append(("Hinweis", LIMITS_TEXT))
    rows.append(("Methode als JSON", m.to_json()))
    return pd.DataFrame(rows, columns=["Angabe", "Wert"])


def export_frame(table: pd.DataFrame, result: IndexResult, catalogue: pd.DataFrame) -> pd.DataFrame:
    """The ranking in German column names (numbers stay numbers) for .xlsx export."""
    labels = indicator_labels(catalogue, result.indicator_ids)
    out = pd.DataFrame({
        "Rang": table["rank"], "sozialraum_id": table["id"], "Sozialraum": table["name"],
        "Indexwert": table["value"], "Klasse": table["class"], "Rang Vorjahr": table["rank_previous"],
        "Rangveränderung": table["rank_change"], "Dynamik": table["dynamics_value"], "Dynamikklasse": table["dynamics_class"],
    })
    for iid in result.indicator_ids:
        out[f"Beitrag {labels[iid]}"] = table[f"c_{iid}"]
    out["Rang ohne je 1 Indikator (min–max)"] = [
        None if pd.isna(a) else f"{a}–{b}" for a, b in zip(table["rank_loo_min"], table["rank_loo_max"])]
    out["Rang bei Gewichten ±50 % (min–max)"] = [
        None if pd.isna(a) else f"{a}–{b}" for a, b in zip(table["rank_weights_min"], table["rank_weights_max"])]
    out["Hinweise"] = table["flags"]
    return out


def export_xlsx(con, result: IndexResult, previous: IndexResult | None = None, path=None, *, actor: Actor) -> bytes:
    """The ranking with the method description as .xlsx (sheets "Rangfolge" and "Methode").

    The sheets hold index values and contributions only (no raw rates); ``actor`` is who receives the file."""
    from quartier.tables import to_xlsx_bytes

    cat = indicators.catalogue(con)
    table = ranking_table(result, previous)
    return to_xlsx_bytes({
        "Rangfolge": export_frame(table, result, cat),
        "Methode": method_description(result.method, cat, result.year, result.data_state, con),
    }, path)
